// Store under SIGKILL: children update a store in a loop and are killed at random moments, some
// of them the instant a temp file of a write appears (so mid-write). After every kill the file
// is a whole envelope of an old or new state (never torn, no acknowledged write lost), this
// process gets the lock at once, and cleanup() leaves no temp files or dead holders' records.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FileLock } from '../../src/fs/file-lock.js';
import { Store } from '../../src/fs/store.js';
import { inOtherFlow, sleep } from '../support/helpers.js';
import { tempDebris, useStoreSandbox, type Child } from './fixtures/store-harness.js';
import { crashProblem, crashStep, emptyCrash, type Crash } from './fixtures/store-shared.js';

const LANES = 3;
const KILLS_PER_LANE = 18;
/** Padding of every state: a write of ~128 KiB plus fsync is a wide window to kill in. */
const PAD = 128 * 1024;

const sandbox = useStoreSandbox();

interface LaneStats {
  kills: number;
  /** Kills that left a temp file of the child behind (the child died mid-write). */
  debris: number;
  /** Kills after the child had written at least once in that life. */
  afterWrites: number;
  slowestTakeoverMs: number;
  /** Empty or partial holder records of killed children that cleanup() left (see the report). */
  tornRecords: number;
}

/** Kills `child` the moment one of its temp files appears in `dir` (or after `capMs`). */
function killOnWrite(child: Child, dir: string, capMs: number): Promise<void> {
  return new Promise((resolve) => {
    const prefix = `.store.json.${child.pid}.`;
    const kill = (): void => {
      watcher.close();
      clearTimeout(cap);
      child.kill();
      resolve();
    };
    const watcher = fs.watch(dir, (_event, name) => {
      if (typeof name === 'string' && name.startsWith(prefix)) kill();
    });
    const cap = setTimeout(kill, capMs);
    // A write may have begun before the watcher was set up.
    if (tempDebris(dir, 'store.json').some((name) => name.startsWith(prefix))) kill();
  });
}

/**
 * Records of dead processes left in the lock's holders directory: `torn` ones do not parse (the
 * holder was killed while writing its record), `whole` ones do.
 */
function deadHolderRecords(lockPath: string): { whole: string[]; torn: string[] } {
  const dir = `${lockPath}.holders`;
  const found = { whole: [] as string[], torn: [] as string[] };
  if (!fs.existsSync(dir)) return found;
  for (const name of fs.readdirSync(dir)) {
    const pid = Number(name.split('@')[0]);
    try {
      process.kill(pid, 0);
      continue;
    } catch {
      // Dead.
    }
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    try {
      JSON.parse(text);
      found.whole.push(`${name}: ${text}`);
    } catch {
      found.torn.push(path.join(dir, name));
    }
  }
  return found;
}

async function lane(index: number): Promise<LaneStats> {
  const dir = path.join(sandbox.base, `lane${index}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, 'store.json');
  const stats: LaneStats = { kills: 0, debris: 0, afterWrites: 0, slowestTakeoverMs: 0, tornRecords: 0 };
  let known = 0; // the count of the last state known to be written (acknowledged or read back)
  for (let kill = 0; kill < KILLS_PER_LANE; kill++) {
    const child = sandbox.children.start('crasher', file, PAD);
    await child.next('ready');
    // Three kinds of moment: 0-30 ms after start-up, 0-30 ms after the first write, or the
    // instant a temp file of a write appears.
    if (kill % 3 === 0) {
      await sleep(Math.random() * 30);
      child.kill();
    } else if (kill % 3 === 1) {
      await child.next('ack');
      await sleep(Math.random() * 30);
      child.kill();
    } else {
      await killOnWrite(child, dir, 2_000);
    }
    const exit = await child.exit();
    const where = `lane ${index} kill ${kill} (pid ${child.pid})`;
    assert.deepEqual(exit, { code: null, signal: 'SIGKILL' }, `${where}: the child died otherwise\n${child.stderr}`);
    stats.kills += 1;

    // The lock was freed with the process: it is free at once. (The Store comes first: it names
    // its FileLock, and a FileLock made before it without a name would clash with that name.)
    const store = new Store<Crash>(file, { initial: emptyCrash });
    const probe = new FileLock(store.lockPath).tryLock();
    assert.ok(probe !== null, `${where}: the lock is still held after the holder died`);
    probe.release();

    // The file is a whole envelope whose state is self-consistent, at or after the last known write.
    const acked = child.lastAck?.count ?? known;
    let onDisk = 0;
    if (fs.existsSync(file)) {
      const text = fs.readFileSync(file, 'utf8');
      let parsed: { version: number; data: Crash };
      try {
        parsed = JSON.parse(text) as { version: number; data: Crash };
      } catch (error) {
        assert.fail(`${where}: the store file does not parse (${String(error)}): ${text.length} chars, starts ${JSON.stringify(text.slice(0, 60))}`);
      }
      assert.deepEqual(Object.keys(parsed).sort(), ['data', 'version'], where);
      assert.equal(crashProblem(parsed.data, PAD), null, `${where}: torn or inconsistent state`);
      assert.equal(parsed.version, parsed.data.count, `${where}: one step per write`);
      assert.ok(parsed.data.count >= acked, `${where}: acknowledged count ${acked} lost, file has ${parsed.data.count}`);
      if (parsed.data.count > known) stats.afterWrites += 1;
      onDisk = parsed.data.count;
    } else {
      assert.equal(acked, 0, `${where}: the store file vanished`);
    }

    // This process takes the lock promptly and writes the state after the one on disk.
    const debrisBefore = tempDebris(dir, 'store.json');
    if (debrisBefore.some((name) => name.startsWith(`.store.json.${child.pid}.`))) stats.debris += 1;
    const started = performance.now();
    const { version, data } = await store.update((draft) => crashStep(draft, PAD), { timeout: 2_000 });
    const took = performance.now() - started;
    stats.slowestTakeoverMs = Math.max(stats.slowestTakeoverMs, took);
    assert.ok(took < 1_000, `${where}: the update after the kill took ${took.toFixed(0)} ms`);
    assert.equal(data.count, onDisk + 1, `${where}: the update did not build on the state on disk`);
    assert.equal(version, data.count);
    known = data.count;

    // cleanup() removes the dead child's temp files and holder record, and nothing else.
    const removed = await store.cleanup();
    for (const name of debrisBefore) assert.ok(removed.includes(path.join(dir, name)), `${where}: ${name} was not cleaned up (removed: ${removed.join(', ')})`);
    assert.deepEqual(tempDebris(dir, 'store.json'), [], `${where}: temp debris left`);
    const records = deadHolderRecords(store.lockPath);
    assert.deepEqual(records.whole, [], `${where}: holder records of dead processes left`);
    // A child killed while writing its record leaves it empty, and cleanup() skips records that
    // do not parse (a bug of lock-metadata.ts, shown deterministically in store.test.ts): counted
    // here and removed by hand, so that this test checks everything else.
    stats.tornRecords += records.torn.length;
    for (const torn of records.torn) fs.unlinkSync(torn);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['store.json', 'store.json.lock', 'store.json.lock.holders'].filter((name) => fs.existsSync(path.join(dir, name))));
    assert.deepEqual(store.snapshot(), { version, data });
  }
  return stats;
}

describe('Store under SIGKILL', { timeout: 120_000 }, () => {
  it(`${LANES * KILLS_PER_LANE} kills at random moments never tear the file, never block the lock, leave no debris after cleanup()`, async (t) => {
    const lanes = await Promise.all(Array.from({ length: LANES }, (_, i) => inOtherFlow(() => lane(i))));
    const total = lanes.reduce((sum, stats) => ({
      kills: sum.kills + stats.kills,
      debris: sum.debris + stats.debris,
      afterWrites: sum.afterWrites + stats.afterWrites,
      slowestTakeoverMs: Math.max(sum.slowestTakeoverMs, stats.slowestTakeoverMs),
      tornRecords: sum.tornRecords + stats.tornRecords,
    }));
    t.diagnostic(
      `kills ${total.kills}; mid-write (temp file left) ${total.debris}; after >= 1 write ${total.afterWrites}; ` +
        `slowest takeover ${total.slowestTakeoverMs.toFixed(0)} ms; torn holder records left by cleanup() ${total.tornRecords}`,
    );
    assert.ok(total.kills >= 50);
    // The test must have killed writers mid-write, and after writes, to mean anything.
    assert.ok(total.debris >= 3, `only ${total.debris} kills landed mid-write`);
    assert.ok(total.afterWrites >= 10, `only ${total.afterWrites} kills came after a write`);
  });
});
