// Store across real processes: concurrent writers lose nothing, readers only ever see whole,
// self-consistent states that never go back, and adds and removes from several processes end in
// an exact state. Children are test/fs/fixtures/store-child.ts, forked with tsx and IPC.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Store } from '../../src/fs/store.js';
import { sleep } from '../support/helpers.js';
import { Children, useStoreSandbox, type Child } from './fixtures/store-harness.js';
import { churnKey, counterProblem, emptyCounter, SEED_KEYS, seedKey, type Counter, type Entries } from './fixtures/store-shared.js';

const sandbox = useStoreSandbox();
let unique = 0;

function freshFile(): { dir: string; file: string } {
  unique += 1;
  const dir = path.join(sandbox.base, `t${unique}`);
  fs.mkdirSync(dir);
  return { dir, file: path.join(dir, 'store.json') };
}

async function startAll(started: Child[]): Promise<void> {
  await Promise.all(started.map((child) => child.next('ready')));
}

async function finishAll(started: Child[]): Promise<void> {
  const exits = await Promise.all(started.map((child) => child.exit()));
  exits.forEach((exit, i) => assert.deepEqual(exit, { code: 0, signal: null }, `child ${i} exit\n${started[i]?.stderr}`));
}

/** The file as written: a whole envelope. */
function onDisk(file: string): { version: number; data: unknown } {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { version: number; data: unknown };
  assert.deepEqual(Object.keys(parsed).sort(), ['data', 'version']);
  return parsed;
}

/**
 * Runs `writers` adder processes of `count` concurrent adds each and checks the outcome: every
 * key exactly once, every version written by exactly one process, the final version the number
 * of writes. Returns how many writes each process made.
 */
async function addersRound(writers: number, count: number, options: { coalesce: boolean; burst: number; fsync?: boolean; env?: NodeJS.ProcessEnv }): Promise<number[]> {
  const { coalesce, burst, fsync = true, env } = options;
  const { file } = freshFile();
  const group = env === undefined ? sandbox.children : new Children({ ...sandbox.children.env, ...env });
  const adders = Array.from({ length: writers }, (_, id) => group.start('adder', file, `p${id}`, count, coalesce ? 1 : 0, burst, 10, fsync ? 1 : 0));
  await startAll(adders);
  for (const adder of adders) adder.send({ type: 'go' });
  const reports = await Promise.all(adders.map((adder) => adder.next('done')));
  await finishAll(adders);

  const store = new Store<Counter>(file, { initial: emptyCounter });
  const { version, data } = store.snapshot();
  assert.equal(counterProblem(data), null);
  assert.equal(data.count, writers * count, 'one step per add, none lost');
  assert.equal(Object.keys(data.keys).length, writers * count);
  for (let id = 0; id < writers; id++) {
    assert.equal(data.writers[`p${id}`], count);
    for (let i = 0; i < count; i++) assert.ok(Object.hasOwn(data.keys, `p${id}-${i}`), `key p${id}-${i} is missing`);
  }
  const written = reports.flatMap((report) => report.versions ?? []).sort((a, b) => a - b);
  assert.deepEqual(written, Array.from({ length: version }, (_, i) => i + 1), 'each version was written by exactly one process, and the final version counts the writes');
  assert.equal(onDisk(file).version, version);
  return reports.map((report) => report.versions?.length ?? 0);
}

describe('Store across processes', { timeout: 90_000 }, () => {
  it('4 processes x 50 concurrent adds (coalesced) lose nothing, 4 rounds', async (t) => {
    // Bursts of 5 make the processes take turns often; a burst of 50 starts every add at once.
    const rounds = [
      { burst: 5, fsync: true },
      { burst: 50, fsync: true },
      { burst: 5, fsync: false },
      { burst: 10, fsync: false },
    ];
    for (const [round, { burst, fsync }] of rounds.entries()) {
      const writes = await addersRound(4, 50, { coalesce: true, burst, fsync });
      const total = writes.reduce((a, b) => a + b, 0);
      t.diagnostic(`round ${round} (bursts of ${burst}${fsync ? '' : ', no fsync'}): writes per process ${writes.join(', ')}`);
      assert.ok(total < 4 * 50, `coalescing: ${total} writes for 200 adds`);
    }
  });

  it('3 processes x 15 concurrent adds with coalesce: false write once per add, 2 rounds (one in fast mode)', async () => {
    for (const env of [undefined, { DEADBOLT_CHECKS: 'off' }]) {
      const writes = await addersRound(3, 15, { coalesce: false, burst: 3, env });
      assert.deepEqual(writes, [15, 15, 15]);
    }
  });

  it('readers in other processes see only whole, self-consistent states, and never go back', async (t) => {
    const { file } = freshFile();
    const readers = [sandbox.children.start('reader', file, 'counter'), sandbox.children.start('reader', file, 'counter')];
    const writers = [sandbox.children.start('adder', file, 'a', 60, 1, 3, 10), sandbox.children.start('adder', file, 'b', 60, 1, 3, 10)];
    await startAll([...readers, ...writers]);
    for (const reader of readers) reader.send({ type: 'go' });
    for (const writer of writers) writer.send({ type: 'go' });

    // This process reads too, while the others write.
    const local = new Store<Counter>(file, { initial: emptyCounter });
    const writersDone = Promise.all(writers.map((writer) => writer.next('done')));
    let finished = false;
    void writersDone.finally(() => {
      finished = true;
    });
    let lastVersion = 0;
    let lastCount = 0;
    const seen = new Set<number>();
    while (!finished) {
      const { version, data } = local.snapshot();
      assert.ok(version >= lastVersion, `version went back from ${lastVersion} to ${version}`);
      assert.equal(counterProblem(data), null, `version ${version}`);
      assert.ok(data.count >= lastCount);
      seen.add(version);
      lastVersion = version;
      lastCount = data.count;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writersDone;
    await sleep(30);
    for (const reader of readers) reader.send({ type: 'stop' });
    const reports = await Promise.all(readers.map((reader) => reader.next('done')));
    await finishAll([...readers, ...writers]);

    const final = local.snapshot();
    t.diagnostic(`final version ${final.version}; versions seen: here ${seen.size}, readers ${reports.map((r) => `${r.versionsSeen} in ${r.observations} reads`).join(', ')}`);
    assert.equal(final.data.count, 120);
    assert.equal(counterProblem(final.data), null);
    for (const report of reports) {
      assert.deepEqual(report.violations, []);
      assert.equal(report.lastVersion, final.version, 'a reader notices the last write');
      assert.ok((report.versionsSeen ?? 0) >= 3, `a reader saw only ${report.versionsSeen} versions: the test did not overlap reads and writes`);
    }
    assert.ok(seen.size >= 3, `this process saw only ${seen.size} versions`);
  });

  it('adds and removes of disjoint keys from 3 processes end in the exact state, watched by a reader', async (t) => {
    const { file } = freshFile();
    const seeder = new Store<Entries>(file, { initial: { entries: {} } });
    await seeder.update((draft) => {
      for (let i = 0; i < SEED_KEYS; i++) draft.entries[seedKey(i)] = seedKey(i);
    });
    const count = 24;
    const reader = sandbox.children.start('reader', file, 'churn');
    const writers = [0, 1, 2].map((writer) => sandbox.children.start('churn', file, writer, count, 3));
    await startAll([reader, ...writers]);
    reader.send({ type: 'go' });
    for (const writer of writers) writer.send({ type: 'go' });
    await Promise.all(writers.map((writer) => writer.next('done')));
    await sleep(30);
    reader.send({ type: 'stop' });
    const report = await reader.next('done');
    await finishAll([reader, ...writers]);

    const expected: Record<string, string> = {};
    for (let writer = 0; writer < 3; writer++) for (let i = 0; i < count; i += 2) expected[churnKey(writer, i)] = churnKey(writer, i);
    const { version, data } = seeder.snapshot();
    t.diagnostic(`final version ${version}; the reader saw ${report.versionsSeen} versions in ${report.observations} reads`);
    assert.deepEqual(data.entries, expected);
    assert.deepEqual(onDisk(file).data, { entries: expected });
    assert.deepEqual(report.violations, []);
    assert.equal(report.lastVersion, version);
    assert.ok((report.versionsSeen ?? 0) >= 3, `the reader saw only ${report.versionsSeen} versions`);
    assert.ok(version > 2 && version <= 1 + 3 * (count + count / 2) + SEED_KEYS, `version ${version}`);
  });
});
