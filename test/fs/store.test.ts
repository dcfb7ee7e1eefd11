// Store in one process: reads, updates and their coalescing, errors of callers, expectVersion,
// timeouts and aborts, nested updates, bad options, codecs, schemas (zod 4) and corrupt files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { z } from 'zod';
import { LockTimeoutError } from '../../src/discipline/errors.js';
import { ConflictError, StoreCorruptError, StoreValidationError } from '../../src/fs/errors.js';
import { FileLock } from '../../src/fs/file-lock.js';
import type { StandardSchemaV1 } from '../../src/fs/standard-schema.js';
import { jsonCodec, type StoreCodec } from '../../src/fs/store-codec.js';
import { Store } from '../../src/fs/store.js';
import { checkedMode, fastMode, inOtherFlow, rejectionOf, sleep } from '../support/helpers.js';
import { tempDebris } from './fixtures/store-harness.js';

let base = '';
let unique = 0;

/** A path in a fresh, empty directory (the store file itself does not exist yet). */
function freshFile(name = 'store.json'): { dir: string; file: string } {
  unique += 1;
  const dir = path.join(base, `t${unique}`);
  fs.mkdirSync(dir);
  return { dir, file: path.join(dir, name) };
}

const envelope = (version: number, data: unknown): string => `${JSON.stringify({ version, data }, null, 2)}\n`;

/** A gate: `wait` resolves once `open` is called. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** A pid that belonged to a process which has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** Holds the store's lock file from another flow until the returned release is called. */
async function holdLock(lockPath: string): Promise<() => Promise<void>> {
  const held = gate();
  const done = gate();
  const finished = inOtherFlow(async () => {
    const guard = await new FileLock(lockPath).lock();
    held.open();
    await done.wait;
    guard.release();
  });
  await held.wait;
  return async () => {
    done.open();
    await finished;
  };
}

interface Doc {
  count: number;
  items: string[];
  nested: { tags: string[]; meta: { owner: string } };
}

const emptyDoc = (): Doc => ({ count: 0, items: [], nested: { tags: [], meta: { owner: 'nobody' } } });

before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'deadbolt-store-'));
  process.env.DEADBOLT_FS_REGISTRY = path.join(base, 'registry');
});

beforeEach(checkedMode);

after(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

describe('Store reads', { timeout: 20_000 }, () => {
  it('serves the initial data at version 0 while the file is missing, and creates nothing', () => {
    const { dir, file } = freshFile();
    let calls = 0;
    const store = new Store<Doc>(file, {
      initial: () => {
        calls += 1;
        return emptyDoc();
      },
    });
    assert.deepEqual(store.snapshot(), { version: 0, data: emptyDoc() });
    assert.deepEqual(store.get(), emptyDoc());
    assert.equal(store.read((data) => data.nested.meta.owner), 'nobody');
    assert.equal(calls, 1, 'the initial snapshot is kept while the file stays missing');
    assert.ok(Object.isFrozen(store.get()));
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.equal(store.path, file);
    assert.equal(store.lockPath, `${file}.lock`);
  });

  it('copies an initial object: the caller keeps a mutable, unchanged object', async () => {
    const { file } = freshFile();
    const initial = emptyDoc();
    const store = new Store<Doc>(file, { initial });
    assert.notEqual(store.get(), initial);
    await store.update((draft) => {
      draft.count = 5;
      draft.nested.tags.push('x');
    });
    assert.deepEqual(initial, emptyDoc());
    assert.ok(!Object.isFrozen(initial) && !Object.isFrozen(initial.nested));
  });

  it('serves the cached snapshot while the file is unchanged, and notices writes of another Store', async () => {
    const { file } = freshFile();
    const a = new Store<Doc>(file, { initial: emptyDoc });
    const b = new Store<Doc>(file, { initial: emptyDoc });
    await a.update((draft) => {
      draft.count = 1;
    });
    const first = b.snapshot();
    assert.equal(first.version, 1);
    assert.equal(b.snapshot(), first, 'same object: no reload without a change');
    assert.equal(b.get(), first.data);
    await a.update((draft) => {
      draft.count = 2;
    });
    assert.deepEqual(b.snapshot(), { version: 2, data: { ...emptyDoc(), count: 2 } });
    await b.update((draft) => {
      draft.count += 10;
    });
    assert.deepEqual(a.snapshot(), { version: 3, data: { ...emptyDoc(), count: 12 } });
  });

  it('snapshots are deeply frozen: changing one throws (strict mode) and changes nothing', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const written = await store.update((draft) => {
      draft.items.push('a');
    });
    const snapshot = store.snapshot();
    assert.equal(written, snapshot);
    const data = store.get() as Doc;
    assert.throws(() => {
      data.count = 99;
    }, TypeError);
    assert.throws(() => data.items.push('b'), TypeError);
    assert.throws(() => {
      data.nested.meta.owner = 'me';
    }, TypeError);
    assert.throws(() => {
      (snapshot as { version: number }).version = 7;
    }, TypeError);
    assert.throws(() => {
      delete (data.nested as Partial<Doc['nested']>).tags;
    }, TypeError);
    assert.ok(Object.isFrozen(data.nested.tags));
    assert.deepEqual(store.snapshot(), { version: 1, data: { ...emptyDoc(), items: ['a'] } });
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { version: 1, data: { ...emptyDoc(), items: ['a'] } });
  });
});

describe('Store.update', { timeout: 20_000 }, () => {
  it('writes the JSON envelope atomically, with the lock file beside it and no temp file left', async () => {
    const { dir, file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const snapshot = await store.update((draft) => {
      draft.count = 1;
      draft.items.push('first');
    });
    const data = { ...emptyDoc(), count: 1, items: ['first'] };
    assert.deepEqual(snapshot, { version: 1, data });
    assert.equal(fs.readFileSync(file, 'utf8'), envelope(1, data));
    assert.deepEqual(tempDebris(dir, 'store.json'), []);
    assert.ok(fs.existsSync(`${file}.lock`));
  });

  it('takes new data returned by fn (ignoring the draft), or the changed draft when fn returns nothing', async () => {
    const { file } = freshFile();
    const numbers = new Store<number>(file, { initial: 0 });
    assert.equal((await numbers.update((n) => n + 41)).data, 41);
    assert.equal((await numbers.update(async (n) => n + 1)).data, 42);
    assert.equal(fs.readFileSync(file, 'utf8'), envelope(2, 42));

    const docs = new Store<Doc>(freshFile().file, { initial: emptyDoc });
    const replaced = await docs.update((draft) => {
      draft.count = 1000;
      return { ...emptyDoc(), items: ['returned'] };
    });
    assert.deepEqual(replaced.data, { ...emptyDoc(), items: ['returned'] });
    const mutated = await docs.update(async (draft) => {
      await sleep(1);
      draft.items.push('after an await');
    });
    assert.deepEqual(mutated, { version: 2, data: { ...emptyDoc(), items: ['returned', 'after an await'] } });
  });

  it('gives fn a private, mutable deep copy: readers see the old data until the write', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const before = store.get();
    let during: Readonly<Doc> | undefined;
    await store.update((draft) => {
      assert.ok(!Object.isFrozen(draft) && !Object.isFrozen(draft.nested.meta));
      assert.notEqual(draft, before);
      draft.nested.meta.owner = 'me';
      during = store.get();
    });
    assert.equal(during?.nested.meta.owner, 'nobody');
    assert.equal(before.nested.meta.owner, 'nobody');
    assert.equal(store.get().nested.meta.owner, 'me');
  });

  it('coalesces 100 updates of one tick into one write: version 1, all changes in call order', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const calls: number[] = [];
    const updates = Array.from({ length: 100 }, (_, i) =>
      store.update((draft) => {
        calls.push(i);
        draft.count += 1;
        draft.items.push(`item-${i}`);
      }),
    );
    const snapshots = await Promise.all(updates);
    assert.deepEqual(calls, Array.from({ length: 100 }, (_, i) => i));
    for (const snapshot of snapshots) assert.equal(snapshot, snapshots[0], 'every caller gets the snapshot of the one write');
    assert.equal(snapshots[0]?.version, 1);
    assert.equal(snapshots[0]?.data.count, 100);
    assert.deepEqual(snapshots[0]?.data.items, Array.from({ length: 100 }, (_, i) => `item-${i}`));
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).version, 1);
  });

  it('updates called while a write runs share the next write', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const inFirst = gate();
    const release = gate();
    const first = store.update(async (draft) => {
      inFirst.open();
      await release.wait;
      draft.items.push('first');
    });
    await inFirst.wait;
    const later = Array.from({ length: 30 }, (_, i) =>
      store.update((draft) => {
        draft.items.push(`later-${i}`);
      }),
    );
    await sleep(5);
    release.open();
    assert.equal((await first).version, 1);
    const versions = new Set((await Promise.all(later)).map((snapshot) => snapshot.version));
    assert.deepEqual([...versions], [2]);
    assert.equal(store.get().items.length, 31);
  });

  it('with coalesce: false, every update is its own write', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc, coalesce: false });
    const snapshots = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.update((draft) => {
          draft.items.push(String(i));
        }),
      ),
    );
    assert.deepEqual(
      snapshots.map((snapshot) => snapshot.version),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.deepEqual(snapshots[4]?.data.items, ['0', '1', '2', '3', '4']);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).version, 20);
  });

  it('a throwing fn fails only its own caller; its changes to the draft are dropped, the others commit', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const boom = new Error('boom');
    const asyncBoom = new RangeError('async boom');
    const updates = Array.from({ length: 8 }, (_, i) =>
      store.update(async (draft) => {
        draft.items.push(`item-${i}`);
        draft.count += 1;
        if (i === 2) throw boom;
        if (i === 5) {
          await sleep(1);
          throw asyncBoom;
        }
      }),
    );
    const results = await Promise.allSettled(updates);
    assert.deepEqual(results[2], { status: 'rejected', reason: boom });
    assert.deepEqual(results[5], { status: 'rejected', reason: asyncBoom });
    for (const i of [0, 1, 3, 4, 6, 7]) assert.equal(results[i]?.status, 'fulfilled', `update ${i}`);
    assert.deepEqual(store.snapshot(), { version: 1, data: { ...emptyDoc(), count: 6, items: ['item-0', 'item-1', 'item-3', 'item-4', 'item-6', 'item-7'] } });
  });

  it('writes nothing when every caller of a write fails', async () => {
    const { dir, file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const failures = await Promise.allSettled([
      store.update(() => {
        throw new Error('a');
      }),
      store.update(() => Promise.reject(new Error('b'))),
    ]);
    assert.deepEqual(
      failures.map((result) => result.status),
      ['rejected', 'rejected'],
    );
    assert.ok(!fs.existsSync(file), 'no file for a store that was never written');
    await store.update((draft) => {
      draft.count = 1;
    });
    const bytes = fs.readFileSync(file);
    const stat = fs.statSync(file, { bigint: true });
    await rejectionOf(
      store.update(() => {
        throw new Error('c');
      }),
    );
    assert.deepEqual(fs.readFileSync(file), bytes);
    assert.equal(fs.statSync(file, { bigint: true }).mtimeNs, stat.mtimeNs);
    assert.equal(store.snapshot().version, 1);
    assert.deepEqual(tempDebris(dir, 'store.json'), []);
  });

  it('expectVersion: applies at that version; ConflictError (nothing written) at any other', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    assert.equal((await store.update((draft) => void (draft.count = 1), { expectVersion: 0 })).version, 1);
    const bytes = fs.readFileSync(file);
    let called = false;
    const error = await rejectionOf(
      store.update(
        () => {
          called = true;
        },
        { expectVersion: 0 },
      ),
    );
    assert.ok(error instanceof ConflictError, String(error));
    assert.equal(error.code, 'ERR_STORE_CONFLICT');
    assert.equal(error.expected, 0);
    assert.equal(error.actual, 1);
    assert.equal(error.path, file);
    assert.match(error.message, /expected version 0, found 1/);
    assert.equal(called, false, 'fn of a conflicting update never runs');
    assert.deepEqual(fs.readFileSync(file), bytes);
    assert.equal((await store.update((draft) => void (draft.count = 2), { expectVersion: 1 })).version, 2);
  });

  it('expectVersion within one coalesced write: the first caller wins, later ones conflict', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const [first, second, plain, third] = await Promise.allSettled([
      store.update((draft) => void draft.items.push('first'), { expectVersion: 0 }),
      store.update((draft) => void draft.items.push('second'), { expectVersion: 0 }),
      store.update((draft) => void draft.items.push('plain')),
      store.update((draft) => void draft.items.push('third'), { expectVersion: 1 }),
    ]);
    assert.equal(first?.status, 'fulfilled');
    assert.equal(plain?.status, 'fulfilled');
    for (const result of [second, third]) {
      assert.equal(result?.status, 'rejected');
      const reason = (result as PromiseRejectedResult).reason as ConflictError;
      assert.ok(reason instanceof ConflictError);
      assert.equal(reason.actual, 1, 'the version the earlier change of this write will get');
    }
    assert.deepEqual(store.snapshot(), { version: 1, data: { ...emptyDoc(), items: ['first', 'plain'] } });
  });

  it('expectVersion sees writes of others (another Store on the file)', async () => {
    const { file } = freshFile();
    const mine = new Store<Doc>(file, { initial: emptyDoc });
    const theirs = new Store<Doc>(file, { initial: emptyDoc });
    await mine.update((draft) => void (draft.count = 1));
    const { version } = mine.snapshot();
    await theirs.update((draft) => void (draft.count = 2));
    const error = await rejectionOf(mine.update((draft) => void (draft.count = 3), { expectVersion: version }));
    assert.ok(error instanceof ConflictError);
    assert.equal(error.actual, 2);
    assert.deepEqual(mine.snapshot(), { version: 2, data: { ...emptyDoc(), count: 2 } });
  });

  it('times out (LockTimeoutError) when the file lock is not free in time, runs nothing, writes nothing', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    await store.update((draft) => void (draft.count = 1));
    const bytes = fs.readFileSync(file);
    const release = await holdLock(store.lockPath);
    let called = false;
    const started = performance.now();
    const error = await rejectionOf(
      store.update(
        () => {
          called = true;
        },
        { timeout: 60 },
      ),
    );
    const waited = performance.now() - started;
    assert.ok(error instanceof LockTimeoutError, String(error));
    assert.ok(waited >= 55 && waited < 1_000, `waited ${waited} ms`);
    assert.match(error.message, /timed out after 60 ms/);

    // The store-wide timeout bounds the wait for the file lock itself.
    const impatient = new Store<Doc>(file, { initial: emptyDoc, timeout: 40 });
    const lockError = await rejectionOf(impatient.update(() => void (called = true)));
    assert.ok(lockError instanceof LockTimeoutError, String(lockError));
    await release();
    assert.equal(called, false);
    assert.deepEqual(fs.readFileSync(file), bytes);
    assert.equal((await store.update((draft) => void (draft.count = 2), { timeout: 1_000 })).version, 2);
    assert.equal((await impatient.update((draft) => void (draft.count = 3))).version, 3);
  });

  it('an aborted signal rejects with its reason before fn runs; others of the same write commit', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    let called = 0;
    const reason = new Error('not any more');
    const early = await rejectionOf(store.update(() => void (called += 1), { signal: AbortSignal.abort(reason) }));
    assert.equal(early, reason);

    const release = await holdLock(store.lockPath);
    const controller = new AbortController();
    const aborted = store.update(() => void (called += 1), { signal: controller.signal });
    const kept = store.update((draft) => void draft.items.push('kept'));
    await sleep(20);
    const late = new Error('aborted while waiting');
    controller.abort(late);
    assert.equal(await rejectionOf(aborted), late);
    await release();
    assert.deepEqual((await kept).data.items, ['kept']);
    assert.equal(called, 0);

    // Once fn runs, aborting no longer cancels the update.
    const running = new AbortController();
    const snapshot = await store.update(
      (draft) => {
        running.abort(new Error('too late'));
        draft.items.push('completed');
      },
      { signal: running.signal },
    );
    assert.deepEqual(snapshot.data.items, ['kept', 'completed']);
  });

  for (const mode of ['checked', 'fast'] as const) {
    it(`an update called from inside a synchronous fn rejects with a clear error (${mode} mode)`, async () => {
      if (mode === 'fast') fastMode();
      const { file } = freshFile();
      const store = new Store<Doc>(file, { initial: emptyDoc });
      let inner: Promise<unknown> | undefined;
      const outer = await store.update((draft) => {
        inner = rejectionOf(store.update((d) => void (d.count = 100)));
        draft.count = 1;
      });
      assert.equal(outer.version, 1);
      const error = await inner;
      assert.match(String(error), /Store\.update\(\) called from inside an update of .*store\.json/);
      assert.deepEqual(store.snapshot(), { version: 1, data: { ...emptyDoc(), count: 1 } });
    });
  }

  it('an update called from an async fn after an await rejects too (checked mode)', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const outer = store.update(async (draft) => {
      await sleep(1);
      const error = await rejectionOf(store.update((d) => void (d.count = 100), { timeout: 2_000 }));
      assert.match(String(error), /called from inside an update/);
      draft.count = 1;
    });
    assert.deepEqual((await outer).data.count, 1);
  });

  it('updates from other code of the test while a write runs are not mistaken for nested ones', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const inFirst = gate();
    const release = gate();
    const first = store.update(async (draft) => {
      inFirst.open();
      await release.wait;
      draft.count += 1;
    });
    await inFirst.wait;
    const second = store.update((draft) => void (draft.count += 1));
    release.open();
    await first;
    assert.equal((await second).data.count, 2);
  });

  it('rejects bad arguments with errors that name the problem', async () => {
    const { file } = freshFile();
    const make = (options: unknown, at = file) => () => new Store(at, options as never);
    assert.throws(make({}), (e: Error) => e instanceof TypeError && /`initial`/.test(e.message));
    assert.throws(make(undefined), (e: Error) => e instanceof TypeError && /`initial`/.test(e.message));
    assert.throws(make({ initial: 0 }, ''), (e: Error) => e instanceof TypeError && /path must be a non-empty string/.test(e.message));
    assert.throws(make({ initial: 0, codec: { encode: () => '' } }), (e: Error) => e instanceof TypeError && /codec must have encode\(content\) and decode\(bytes\)/.test(e.message));
    assert.throws(make({ initial: 0, codec: null }), (e: Error) => e instanceof TypeError && /codec/.test(e.message));
    assert.throws(make({ initial: 0, schema: { parse: () => 0 } }), (e: Error) => e instanceof TypeError && /schema must implement Standard Schema v1/.test(e.message));
    assert.throws(make({ initial: 0, schema: { '~standard': { version: 2, validate: () => ({ value: 0 }) } } }), (e: Error) => e instanceof TypeError && /Standard Schema/.test(e.message));
    assert.throws(make({ initial: 0, lockPath: file }), (e: Error) => e instanceof TypeError && /lock file must not be the data file/.test(e.message));
    const relative = path.relative(process.cwd(), file);
    assert.throws(make({ initial: 0, lockPath: relative }), (e: Error) => e instanceof TypeError && /lock file must not be the data file/.test(e.message));
    assert.throws(make({ initial: 0, timeout: -1 }), (e: Error) => e instanceof RangeError && /timeout must be/.test(e.message));

    const store = new Store<number>(file, { initial: 0 });
    const notFn = await rejectionOf(store.update(42 as never));
    assert.ok(notFn instanceof TypeError && /fn must be a function/.test(notFn.message));
    for (const bad of [-1, 1.5, Number.NaN, '1', Infinity]) {
      const error = await rejectionOf(store.update((n) => n + 1, { expectVersion: bad as number }));
      assert.ok(error instanceof TypeError, `expectVersion ${String(bad)}: ${String(error)}`);
      assert.match(error.message, /expectVersion version must be a non-negative integer/);
    }
    assert.ok(!fs.existsSync(file), 'nothing was written');
  });

  it('works with a custom codec, and reports its decode errors as StoreCorruptError', async () => {
    const { file } = freshFile('store.txt');
    // `v<version>\n<key>=<value> lines`, sorted.
    const codec: StoreCodec<Record<string, string>> = {
      encode: ({ version, data }) =>
        `v${version}\n${Object.entries(data)
          .sort()
          .map(([k, v]) => `${k}=${v}\n`)
          .join('')}`,
      decode: (bytes) => {
        const [head = '', ...lines] = bytes.toString('utf8').split('\n');
        if (!/^v\d+$/.test(head)) throw new SyntaxError(`bad header ${JSON.stringify(head)}`);
        return { version: Number(head.slice(1)), data: Object.fromEntries(lines.filter(Boolean).map((line) => line.split('=', 2))) };
      },
    };
    const store = new Store<Record<string, string>>(file, { initial: {}, codec });
    await store.update((draft) => {
      draft.b = '2';
      draft.a = '1';
    });
    await store.update((draft) => void (draft.c = '3'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'v2\na=1\nb=2\nc=3\n');
    const other = new Store<Record<string, string>>(file, { initial: {}, codec });
    assert.deepEqual(other.snapshot(), { version: 2, data: { a: '1', b: '2', c: '3' } });

    fs.writeFileSync(file, 'garbage\n');
    const error = await rejectionOf(other.update(() => ({})));
    assert.ok(error instanceof StoreCorruptError);
    assert.equal(error.kind, 'parse');
    assert.ok((error as Error).cause instanceof SyntaxError);
    assert.equal(fs.readFileSync(file, 'utf8'), 'garbage\n');
    // The exported default codec round-trips the envelope.
    assert.deepEqual(jsonCodec.decode(Buffer.from(jsonCodec.encode({ version: 3, data: { x: [1] } }))), { version: 3, data: { x: [1] } });
  });

  it('cleanup() removes temp files and holder records of dead processes only', async () => {
    const { dir, file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    await store.update((draft) => void (draft.count = 1));
    const dead = deadPid();
    const deadTemp = path.join(dir, `.store.json.${dead}.0123456789ab.tmp`);
    const liveTemp = path.join(dir, `.store.json.${process.pid}.0123456789ab.tmp`);
    const otherTarget = path.join(dir, `.other.json.${dead}.0123456789ab.tmp`);
    for (const temp of [deadTemp, liveTemp, otherTarget]) fs.writeFileSync(temp, 'partial');
    const holders = `${store.lockPath}.holders`;
    fs.mkdirSync(holders, { recursive: true });
    const record = path.join(holders, `${dead}@${os.hostname()}.json`);
    fs.writeFileSync(record, JSON.stringify({ lock: store.lockPath, name: 'x', mode: 'exclusive', pid: dead, host: os.hostname(), started: null, since: new Date().toISOString() }));
    const removed = await store.cleanup();
    assert.ok(removed.includes(deadTemp), `removed: ${removed.join(', ')}`);
    assert.ok(removed.includes(record), `removed: ${removed.join(', ')}`);
    assert.ok(!removed.includes(liveTemp) && !removed.includes(otherTarget));
    assert.ok(!fs.existsSync(deadTemp) && !fs.existsSync(record));
    assert.ok(fs.existsSync(liveTemp) && fs.existsSync(otherTarget) && fs.existsSync(file) && fs.existsSync(store.lockPath));
    fs.unlinkSync(liveTemp);
  });

  // KNOWN BUG (src/fs/lock-metadata.ts): a holder writes its record with a plain writeFileSync,
  // so a holder SIGKILLed in that moment leaves an empty record (store-crash.test.ts meets this
  // in about one run in five). cleanStaleLocks skips every record that does not parse, so
  // cleanup() never removes it, although its file name says which process wrote it, and that
  // process is dead.
  it('cleanup() removes a holder record torn by a kill (empty file) when its name names a dead process', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    await store.update((draft) => void (draft.count = 1));
    const holders = `${store.lockPath}.holders`;
    fs.mkdirSync(holders, { recursive: true });
    const torn = path.join(holders, `${deadPid()}@${os.hostname()}.json`);
    fs.writeFileSync(torn, '');
    const removed = await store.cleanup();
    assert.ok(!fs.existsSync(torn), `the torn record of a dead process is still there (removed: ${JSON.stringify(removed)})`);
    assert.ok(removed.includes(torn));
  });
});

describe('Store with a zod schema', { timeout: 20_000 }, () => {
  const schema = z.object({
    count: z.number().int().nonnegative(),
    items: z.array(z.string().min(1)),
    nested: z.object({ tags: z.array(z.string()), meta: z.object({ owner: z.string() }) }),
  });

  it('rejects an invalid update with StoreValidationError and its issues; the file keeps its bytes', async () => {
    const { dir, file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc, schema });
    const missing = await rejectionOf(store.update((draft) => void (draft.count = -1)));
    assert.ok(missing instanceof StoreValidationError, String(missing));
    assert.ok(!fs.existsSync(file), 'an invalid first update creates no file');

    await store.update((draft) => void (draft.count = 1));
    const bytes = fs.readFileSync(file);
    const error = await rejectionOf(
      store.update((draft) => {
        draft.count = 1.5;
        draft.items.push('');
      }),
    );
    assert.ok(error instanceof StoreValidationError, String(error));
    assert.equal(error.code, 'ERR_STORE_INVALID');
    assert.equal(error.path, file);
    assert.deepEqual(error.issues.map((issue) => issue.path?.map(String)).sort(), [['count'], ['items', '0']]);
    assert.match(error.message, /count: /);
    assert.deepEqual(fs.readFileSync(file), bytes);
    assert.deepEqual(store.snapshot(), { version: 1, data: { ...emptyDoc(), count: 1 } });
    assert.deepEqual(tempDebris(dir, 'store.json'), []);
  });

  it('an invalid update does not affect the other callers of the same write', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc, schema });
    const results = await Promise.allSettled([
      store.update((draft) => void draft.items.push('a')),
      store.update((draft) => {
        draft.items.push('bad');
        draft.nested.meta.owner = 7 as unknown as string;
      }),
      store.update((draft) => void draft.items.push('b')),
    ]);
    assert.equal(results[0]?.status, 'fulfilled');
    assert.ok(results[1]?.status === 'rejected' && results[1].reason instanceof StoreValidationError);
    assert.equal(results[2]?.status, 'fulfilled');
    assert.deepEqual(store.snapshot(), { version: 1, data: { ...emptyDoc(), items: ['a', 'b'] } });
  });

  it('a file whose data fails the schema is StoreCorruptError (invalid) for reads and updates, and stays as it is', async () => {
    const { file } = freshFile();
    const text = envelope(4, { count: 'many', items: [], nested: { tags: [], meta: { owner: 'x' } } });
    fs.writeFileSync(file, text);
    const store = new Store<Doc>(file, { initial: emptyDoc, schema });
    const readError = (() => {
      try {
        store.get();
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    assert.ok(readError instanceof StoreCorruptError, String(readError));
    assert.equal(readError.kind, 'invalid');
    assert.equal(readError.code, 'ERR_STORE_CORRUPT');
    assert.equal(readError.path, file);
    assert.match(readError.message, /count/);
    let called = false;
    const updateError = await rejectionOf(store.update(() => void (called = true)));
    assert.ok(updateError instanceof StoreCorruptError && updateError.kind === 'invalid');
    assert.equal(called, false);
    assert.equal(fs.readFileSync(file, 'utf8'), text);

    fs.writeFileSync(file, envelope(4, { ...emptyDoc(), count: 3 }));
    assert.equal(store.get().count, 3);
    assert.equal((await store.update((draft) => void (draft.count += 1))).version, 5);
  });

  it('an asynchronous schema: get() asks for reload() first; updates validate', async () => {
    const { file } = freshFile();
    const asyncSchema: StandardSchemaV1<unknown, number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: async (value) => {
          await sleep(1);
          return typeof value === 'number' && value < 10 ? { value } : { issues: [{ message: 'must be a number below 10' }] };
        },
      },
    };
    fs.writeFileSync(file, envelope(1, 5));
    const store = new Store<number>(file, { initial: 0, schema: asyncSchema });
    assert.throws(() => store.get(), (e: Error) => e instanceof TypeError && /validates asynchronously.*reload\(\)/.test(e.message));
    assert.deepEqual(await store.reload(), { version: 1, data: 5 });
    assert.equal(store.get(), 5);
    const error = await rejectionOf(store.update((n) => n + 10));
    assert.ok(error instanceof StoreValidationError);
    assert.match(error.message, /\(root\): must be a number below 10/);
    assert.equal((await store.update((n) => n + 1)).data, 6);
  });
});

describe('Store with a corrupt file', { timeout: 20_000 }, () => {
  const cases: [string, Buffer][] = [
    ['garbage bytes', Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x37, 0x80, 0x81, 0x0a])],
    ['truncated JSON', Buffer.from(envelope(3, { count: 1, items: ['a', 'b'] }).slice(0, 30))],
    ['an empty file', Buffer.alloc(0)],
    ['JSON without the envelope', Buffer.from('{"count": 1, "items": []}\n')],
    ['a JSON array', Buffer.from('[1, 2, 3]')],
    ['JSON null', Buffer.from('null')],
    ['a negative version', Buffer.from(envelope(-1, emptyDoc()))],
    ['a fractional version', Buffer.from('{"version": 1.5, "data": {}}')],
    ['a string version', Buffer.from('{"version": "2", "data": {}}')],
  ];

  for (const [name, bytes] of cases) {
    it(`${name}: get() and update() throw StoreCorruptError naming the path; the bytes stay; a repair is picked up`, async () => {
      const { dir, file } = freshFile();
      fs.writeFileSync(file, bytes);
      const mtime = fs.statSync(file, { bigint: true }).mtimeNs;
      const store = new Store<Doc>(file, { initial: emptyDoc });
      for (const read of [() => store.get(), () => store.snapshot(), () => store.read((data) => data.count)]) {
        assert.throws(read, (error: unknown) => {
          assert.ok(error instanceof StoreCorruptError, String(error));
          assert.equal(error.kind, 'parse');
          assert.equal(error.path, file);
          assert.equal(error.size, bytes.length);
          assert.ok(error.message.includes(file), error.message);
          return true;
        });
      }
      let called = 0;
      for (let attempt = 0; attempt < 3; attempt++) {
        const error = await rejectionOf(store.update(() => void (called += 1)));
        assert.ok(error instanceof StoreCorruptError, String(error));
        assert.ok(error.message.includes(file));
      }
      // A second Store (no cached state) fails the same way.
      const fresh = new Store<Doc>(file, { initial: emptyDoc });
      assert.ok((await rejectionOf(fresh.update(() => emptyDoc()))) instanceof StoreCorruptError);
      assert.ok((await rejectionOf(fresh.reload())) instanceof StoreCorruptError);
      assert.equal(called, 0, 'fn never runs on a corrupt store');
      assert.deepEqual(fs.readFileSync(file), bytes, 'the corrupt file is never overwritten');
      assert.equal(fs.statSync(file, { bigint: true }).mtimeNs, mtime);
      assert.deepEqual(tempDebris(dir, 'store.json'), []);

      fs.writeFileSync(file, envelope(7, { ...emptyDoc(), count: 70 }));
      assert.equal(store.get().count, 70);
      assert.deepEqual(await fresh.reload(), { version: 7, data: { ...emptyDoc(), count: 70 } });
      assert.deepEqual((await store.update((draft) => void (draft.count += 1))).version, 8);
      assert.equal(fresh.get().count, 71);
    });
  }
});

describe('Store in fast mode', { timeout: 20_000 }, () => {
  beforeEach(fastMode);
  afterEach(checkedMode);

  it('coalesces, isolates failures and honours expectVersion as in checked mode', async () => {
    const { file } = freshFile();
    const store = new Store<Doc>(file, { initial: emptyDoc });
    const results = await Promise.allSettled([
      ...Array.from({ length: 50 }, (_, i) => store.update((draft) => void draft.items.push(String(i)))),
      store.update(() => {
        throw new Error('mine only');
      }),
      store.update((draft) => void (draft.count = 1), { expectVersion: 0 }),
    ]);
    assert.equal(results.filter((result) => result.status === 'rejected').length, 2);
    assert.deepEqual(store.snapshot().version, 1);
    assert.equal(store.get().items.length, 50);
    assert.equal(store.get().count, 0);
  });
});
