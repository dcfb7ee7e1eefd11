// Store: schema output, values the codec cannot carry, per-update options, and lock naming.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { z } from 'zod';
import { LockTimeoutError } from '../../src/discipline/errors.js';
import { StoreValidationError } from '../../src/fs/errors.js';
import { FileLock } from '../../src/fs/file-lock.js';
import { Store } from '../../src/fs/store.js';
import { checkedMode, inOtherFlow, rejectionOf } from '../support/helpers.js';

let base = '';
let unique = 0;
const freshFile = (): string => {
  const dir = path.join(base, `t${++unique}`);
  fs.mkdirSync(dir);
  return path.join(dir, 'store.json');
};

before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'deadbolt-store-options-'));
  process.env.DEADBOLT_FS_REGISTRY = path.join(base, 'registry');
});
beforeEach(checkedMode);
after(() => fs.rmSync(base, { recursive: true, force: true }));

describe('Store schema output and encoding', () => {
  const User = z.object({ name: z.string().transform((name) => name.toUpperCase()), tags: z.array(z.string()).default([]) });
  const Users = z.record(z.string(), User);

  it('serves and writes the schema output (transforms and defaults), so the data matches its type', async () => {
    const file = freshFile();
    const store = new Store<z.output<typeof Users>>(file, { initial: {}, schema: Users });
    const written = await store.update((draft) => ({ ...draft, a: { name: 'ada' } as never }));
    assert.deepEqual(written.data, { a: { name: 'ADA', tags: [] } });
    assert.deepEqual(store.get(), { a: { name: 'ADA', tags: [] } });
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).data, { a: { name: 'ADA', tags: [] } });
  });

  it('applies the schema output on load too', () => {
    const file = freshFile();
    fs.writeFileSync(file, JSON.stringify({ version: 3, data: { b: { name: 'bob' } } }));
    const store = new Store<z.output<typeof Users>>(file, { initial: {}, schema: Users });
    assert.deepEqual(store.get(), { b: { name: 'BOB', tags: [] } });
  });

  it('refuses data that passes the schema in memory but not once encoded (a Date in JSON); nothing is written', async () => {
    const file = freshFile();
    const Events = z.object({ at: z.date().optional() });
    const store = new Store<z.output<typeof Events>>(file, { initial: {}, schema: Events });
    await store.update(() => ({}));
    const before = fs.readFileSync(file);
    const error = await rejectionOf(store.update(() => ({ at: new Date(0) })));
    assert.ok(error instanceof StoreValidationError, String(error));
    assert.match(error.message, /once encoded and decoded/);
    assert.deepEqual(fs.readFileSync(file), before);
    assert.equal(store.snapshot().version, 1);
  });

  it('without a schema, the snapshot is what the file holds (what other processes will read)', async () => {
    const file = freshFile();
    const store = new Store<{ at?: unknown }>(file, { initial: {} });
    const written = await store.update(() => ({ at: new Date(0) }));
    assert.equal(written.data.at, '1970-01-01T00:00:00.000Z');
    assert.deepEqual(store.get(), new Store<{ at?: unknown }>(file, { initial: {} }).get());
  });
});

describe('Store.update options', () => {
  it('rejects a bad timeout, signal or options object with an error that names it', async () => {
    const store = new Store<number>(freshFile(), { initial: 0 });
    for (const [options, pattern] of [
      [{ timeout: -1 }, /timeout must be a number of ms/],
      [{ timeout: Number.NaN }, /timeout must be a number of ms/],
      [{ timeout: 'abc' }, /timeout must be a number of ms/],
      [{ signal: {} }, /signal must be an AbortSignal/],
      [42, /options must be an object/],
    ] as const) {
      const error = await rejectionOf(store.update(() => 1, options as never));
      assert.match(String(error), pattern);
    }
    assert.equal(store.snapshot().version, 0);
  });

  it('timeout 0 runs the update when nothing needs waiting for, and times out when the file lock is held', async () => {
    const file = freshFile();
    const store = new Store<number>(file, { initial: 0 });
    assert.equal((await store.update(() => 1, { timeout: 0 })).data, 1);
    let release!: () => void;
    let held!: () => void;
    const isHeld = new Promise<void>((resolve) => (held = resolve));
    const holder = inOtherFlow(async () => {
      const guard = await new FileLock(store.lockPath).lock();
      held();
      await new Promise<void>((resolve) => (release = resolve));
      guard.release();
    });
    await isHeld;
    try {
      const error = await rejectionOf(store.update(() => 2, { timeout: 0 }));
      assert.ok(error instanceof LockTimeoutError, String(error));
    } finally {
      release();
      await holder;
    }
    assert.equal(store.get(), 1);
    const mine = await new FileLock(store.lockPath).lock();
    try {
      assert.match(String(await rejectionOf(store.update(() => 3))), /holds its lock file/);
    } finally {
      mine.release();
    }
  });

  it('a FileLock made on the store lock file first is the same lock, in either order', async () => {
    const first = freshFile();
    const lock = new FileLock(`${first}.lock`);
    const store = new Store<number>(first, { initial: 0 });
    assert.equal((await store.update(() => 5)).data, 5);
    assert.equal(lock.heldMode, null);
    const second = freshFile();
    const store2 = new Store<number>(second, { initial: 0 });
    const lock2 = new FileLock(store2.lockPath);
    assert.equal(lock2.name, store2.lockPath);
  });
});
