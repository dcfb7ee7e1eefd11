// watchEventLoop(): delay percentiles (beyond the sampling resolution), stall reports naming the
// locks held during the stall, option validation, reset/stop; and the core watchdog's
// "event loop blocked while locks were held" report (channels.loopBlocked) for core and shared
// locks alike.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { Mutex, channels, configure, type LockRef } from '../../dist/index.js';
import { SharedMutex, watchEventLoop, type StallReport } from '../../dist/threads.js';
import { checkedMode, fastMode, sleep, uniqueName } from './fixtures/harness.js';

/** Blocks the event loop (and this thread) for `ms`. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const BLOCK_MS = 100;
const THRESHOLD_MS = 50;
/** Long enough for every detector (intervals of 12 ms here) to tick after a stall. */
const SETTLE_MS = 60;

const names = (locks: readonly LockRef[]): string[] => locks.map((ref) => ref.lock);

/**
 * The stall a block caused: the longest one reported (this machine is shared, and a preempted
 * thread may show a stall of its own around the block; the block is the longest one).
 */
function longest<T extends { blockedMs: number }>(stalls: readonly T[]): T {
  assert.ok(stalls.length > 0, 'no stall was reported');
  return stalls.reduce((a, b) => (b.blockedMs > a.blockedMs ? b : a));
}

/** A detector's figure for a BLOCK_MS block: it may miss up to one of its intervals (12 ms here). */
const SEEN_BLOCK_MS = BLOCK_MS - 15;

describe('watchEventLoop(): delay statistics', { timeout: 30_000 }, () => {
  it('reports delays beyond the resolution, ordered, one sample per resolution ms', async () => {
    fastMode();
    using fine = watchEventLoop({ thresholdMs: 1_000, resolution: 1 });
    using coarse = watchEventLoop({ thresholdMs: 1_000, resolution: 10 });
    await sleep(300);
    for (const [watch, resolution] of [
      [fine, 1],
      [coarse, 10],
    ] as const) {
      const stats = watch.stats();
      assert.ok(stats.min <= stats.p50 && stats.p50 <= stats.p90 && stats.p90 <= stats.p99 && stats.p99 <= stats.max, JSON.stringify(stats));
      assert.ok(stats.min >= 0 && stats.mean >= stats.min && stats.mean <= stats.max, JSON.stringify(stats));
      // An idle loop is late by a fraction of a ms; the raw histogram would read `resolution` ms here.
      assert.ok(stats.p50 < 2, `idle p50 ${stats.p50} ms at resolution ${resolution}`);
      // At most one sample per resolution ms (fewer when the machine starves this thread).
      assert.ok(stats.count <= (300 / resolution) * 1.2, `${stats.count} samples in 300 ms at resolution ${resolution}`);
    }
    // Both watches ran over the same 300 ms: the sampling rate follows the resolution.
    assert.ok(fine.stats().count >= 3 * coarse.stats().count, `${fine.stats().count} samples at 1 ms, ${coarse.stats().count} at 10 ms`);
  });

  it('a block shows in max; reset() starts over; stop() freezes the figures', async () => {
    fastMode();
    const watch = watchEventLoop({ thresholdMs: 1_000, resolution: 1 });
    await sleep(50);
    busy(60);
    await sleep(20);
    assert.ok(watch.stats().max >= 55, `max ${watch.stats().max} after a 60 ms block`);
    watch.reset();
    await sleep(50);
    assert.ok(watch.stats().max < 40, `max ${watch.stats().max} after reset`);
    watch.stop();
    watch.stop();
    assert.equal(watch.running, false);
    const frozen = watch.stats();
    await sleep(30);
    assert.equal(watch.stats().count, frozen.count);
  });

  it('has NaN figures before the first sample', () => {
    using watch = watchEventLoop({ thresholdMs: 100 });
    const stats = watch.stats();
    assert.equal(stats.count, 0);
    assert.ok(Number.isNaN(stats.p99) && Number.isNaN(stats.min));
  });

  it('refuses bad options with errors naming the option', () => {
    for (const thresholdMs of [undefined, 0, -5, Number.NaN, Infinity, '50']) {
      assert.throws(() => watchEventLoop({ thresholdMs } as never), { name: 'RangeError', message: /thresholdMs/ }, String(thresholdMs));
    }
    for (const resolution of [0, 1.5, -1, '1']) {
      assert.throws(() => watchEventLoop({ thresholdMs: 50, resolution } as never), { name: 'RangeError', message: /resolution/ }, String(resolution));
    }
    assert.throws(() => watchEventLoop({ thresholdMs: 50, keep: -1 }), { name: 'RangeError', message: /keep/ });
    assert.throws(() => watchEventLoop({ thresholdMs: 50, onStall: 'log' } as never), { name: 'TypeError', message: /onStall/ });
    assert.throws(() => watchEventLoop({ thresholdMs: 50, treshold: 5 } as never), { name: 'TypeError', message: /unknown option "treshold"/ });
    assert.throws(() => watchEventLoop(undefined as never), TypeError);
  });
});

describe('watchEventLoop(): stall reports', { timeout: 30_000 }, () => {
  it('checked mode: a stall while holding a Mutex and a SharedMutex names both, with where they were acquired', async () => {
    checkedMode();
    configure({ stacks: 'always' });
    const published: StallReport[] = [];
    const onPublish = (message: unknown): void => {
      published.push(message as StallReport);
    };
    subscribe(channels.eventLoopStall, onPublish);
    const seen: StallReport[] = [];
    using watch = watchEventLoop({ thresholdMs: THRESHOLD_MS, resolution: 1, onStall: (stall) => seen.push(stall) });
    const mutex = new Mutex({ name: uniqueName('coffer') });
    const shared = new SharedMutex({ name: uniqueName('arena-key') });
    try {
      await sleep(20);
      const a = await mutex.lock();
      const b = await shared.lock();
      busy(BLOCK_MS);
      await sleep(SETTLE_MS);
      b.release();
      a.release();
    } finally {
      unsubscribe(channels.eventLoopStall, onPublish);
    }
    const stall = longest(watch.stalls);
    assert.ok(stall.blockedMs >= SEEN_BLOCK_MS, `blockedMs ${stall.blockedMs}`);
    assert.ok(Math.abs(stall.at - Date.now()) < 5_000);
    assert.deepEqual(names(stall.locks).sort(), [mutex.label, shared.label].sort());
    assert.match(stall.report, /blocked for ~\d+ ms \(thresholdMs is 50\)/);
    for (const label of [mutex.label, shared.label]) assert.ok(stall.report.includes(label), stall.report);
    assert.match(stall.report, /acquired at:\n\s+at .*event-loop\.test\.ts:\d+/);
    assert.deepEqual(seen, watch.stalls);
    assert.deepEqual(published, watch.stalls);
  });

  it('checked mode: a stall without locks says so', async () => {
    checkedMode();
    using watch = watchEventLoop({ thresholdMs: THRESHOLD_MS });
    await sleep(20);
    busy(BLOCK_MS);
    await sleep(SETTLE_MS);
    const stall = longest(watch.stalls);
    assert.ok(stall.blockedMs >= SEEN_BLOCK_MS, `blockedMs ${stall.blockedMs}`);
    assert.deepEqual(stall.locks, []);
    assert.match(stall.report, /held no lock/);
  });

  it('checked mode: locks taken and released within the stall are named; one released well before it is not', async () => {
    checkedMode();
    using watch = watchEventLoop({ thresholdMs: THRESHOLD_MS });
    const before = new Mutex({ name: uniqueName('released-before') });
    const inside = new Mutex({ name: uniqueName('inside') });
    const sharedInside = new SharedMutex({ name: uniqueName('shared-inside') });
    (await before.lock()).release();
    await sleep(40); // the watch looks several times after that release
    const guard = inside.tryLock();
    assert.ok(guard !== null);
    busy(BLOCK_MS / 2);
    guard.release();
    const sharedGuard = sharedInside.lockSync();
    busy(BLOCK_MS / 2);
    sharedGuard.release();
    await sleep(SETTLE_MS);
    const stall = longest(watch.stalls);
    assert.ok(stall.blockedMs >= SEEN_BLOCK_MS, `blockedMs ${stall.blockedMs}`);
    assert.deepEqual(names(stall.locks).sort(), [inside.label, sharedInside.label].sort());
    assert.match(stall.report, new RegExp(`${sharedInside.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('fast mode: shared mutexes this thread owns are named (from the arena); other locks are not tracked', async () => {
    fastMode();
    using watch = watchEventLoop({ thresholdMs: THRESHOLD_MS });
    const mutex = new Mutex({ name: uniqueName('untracked') });
    const shared = new SharedMutex({ name: uniqueName('fast-shared'), rank: 3 });
    await sleep(20);
    const a = await mutex.lock();
    const b = shared.lockSync();
    busy(BLOCK_MS);
    await sleep(SETTLE_MS);
    b.release();
    a.release();
    const held = longest(watch.stalls);
    watch.reset();
    busy(BLOCK_MS);
    await sleep(SETTLE_MS);
    const none = longest(watch.stalls);
    assert.ok(held.blockedMs >= SEEN_BLOCK_MS && none.blockedMs >= SEEN_BLOCK_MS);
    assert.deepEqual(
      held.locks.map((ref) => [ref.lock, ref.rank, ref.id]),
      [[shared.label, 3, 0]],
    );
    assert.match(held.report, /only shared locks are named/);
    assert.deepEqual(none.locks, []);
    assert.match(none.report, /Lock tracking is off \(checked mode names the locks\)/);
  });

  it('keeps the latest `keep` stalls; reset() clears them; a stopped watch reports nothing', async () => {
    fastMode();
    const watch = watchEventLoop({ thresholdMs: THRESHOLD_MS, keep: 2 });
    for (let i = 0; i < 3; i++) {
      await sleep(20);
      busy(BLOCK_MS + i * 30);
      await sleep(SETTLE_MS);
    }
    assert.equal(watch.stalls.length, 2);
    assert.ok((watch.stalls[1]?.blockedMs ?? 0) > (watch.stalls[0]?.blockedMs ?? 0), 'the oldest stall was the one dropped');
    watch.reset();
    assert.deepEqual(watch.stalls, []);
    watch[Symbol.dispose]();
    busy(BLOCK_MS);
    await sleep(SETTLE_MS);
    assert.deepEqual(watch.stalls, []);
  });
});

describe('core watchdog: "event loop blocked while locks were held" covers shared locks', { timeout: 30_000 }, () => {
  async function blockedReports(block: () => Promise<void>): Promise<{ blockedMs: number; locks: LockRef[]; report: string }[]> {
    checkedMode();
    configure({ loopBlockWarnMs: THRESHOLD_MS });
    const reports: { blockedMs: number; locks: LockRef[]; report: string }[] = [];
    const onBlocked = (message: unknown): void => {
      reports.push(message as (typeof reports)[number]);
    };
    subscribe(channels.loopBlocked, onBlocked);
    try {
      await sleep(30);
      await block();
      await sleep(SETTLE_MS);
    } finally {
      unsubscribe(channels.loopBlocked, onBlocked);
      configure({ loopBlockWarnMs: 0 });
    }
    return reports;
  }

  for (const kind of ['Mutex', 'SharedMutex'] as const) {
    const make = (): Mutex | SharedMutex => (kind === 'Mutex' ? new Mutex({ name: uniqueName('watchdog') }) : new SharedMutex({ name: uniqueName('watchdog-shared') }));

    it(`names a ${kind} held across a ${BLOCK_MS} ms block`, async () => {
      const lock = make();
      const reports = await blockedReports(async () => {
        const guard = await lock.lock();
        busy(BLOCK_MS);
        await sleep(SETTLE_MS);
        guard.release();
      });
      const report = longest(reports);
      assert.ok(report.blockedMs >= SEEN_BLOCK_MS, `blockedMs ${report.blockedMs}`);
      assert.deepEqual(names(report.locks), [lock.label]);
      assert.ok(report.report.includes(lock.label));
    });

    it(`names a ${kind} taken and released within a ${BLOCK_MS} ms block`, async () => {
      const lock = make();
      const reports = await blockedReports(async () => {
        const guard = await lock.lock();
        busy(BLOCK_MS);
        guard.release();
      });
      const report = longest(reports);
      assert.ok(report.blockedMs >= SEEN_BLOCK_MS, `blockedMs ${report.blockedMs}`);
      assert.deepEqual(names(report.locks), [lock.label]);
    });
  }
});
