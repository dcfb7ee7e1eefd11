// Contended workloads across real worker threads: a SharedRwLock (readers overlap, a writer is
// alone, no update lost), a SharedSemaphore (never more units in use than permits, all of them
// used at once) and a producer/consumer ring with SharedCondition (every value consumed once).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SharedCondition, SharedMutex, SharedRwLock, SharedSemaphore } from '../../dist/threads.js';
import { checkedMode, fastMode, uniqueName } from './fixtures/harness.js';
import { runWorkers, stopWorkloads } from './fixtures/workloads.js';

after(stopWorkloads);

/** DEADBOLT_STRESS=1 (npm run test:stress) runs the same workloads with more operations. */
const SCALE = process.env.DEADBOLT_STRESS === '1' ? 10 : 1;

for (const checks of [false, true]) {
  describe(`contended shared locks, ${checks ? 'checked' : 'fast'} mode`, () => {
    // That reads overlap across threads is asserted step by step in rw-semaphore.test.ts: here,
    // with a writer every 4th operation and writers preferred, whether two reads ever coincide
    // is up to the scheduler.
    it('SharedRwLock: writers are alone, readers never see a writer, and no write is lost (async and sync waits)', async () => {
      (checks ? checkedMode : fastMode)();
      const lock = new SharedRwLock({ name: uniqueName('routes') });
      const cells = new SharedArrayBuffer(8 * 4);
      const view = new Int32Array(cells);
      const n = 400 * SCALE;
      const styles = ['async', 'async', 'sync'] as const;
      await runWorkers(styles.map((style) => ({ role: 'rw', handles: [lock.handle], cells, n, style, checks })));
      assert.equal(view[3], 0, 'a reader saw a writer, or a writer saw anyone else');
      assert.equal(view[0], styles.length * (n / 4), 'writes lost');
      assert.equal(view[1], 0);
      assert.equal(view[2], 0);
      // Every hold was given back: the lock is free for a writer at once.
      const guard = lock.tryWrite();
      assert.ok(guard !== null, 'the lock is still held after every worker finished');
      guard.release();
    });

    it('SharedSemaphore: never more units in use than permits, and all permits used at once', async () => {
      (checks ? checkedMode : fastMode)();
      const permits = 3;
      const semaphore = new SharedSemaphore(permits, { name: uniqueName('slots') });
      const cells = new SharedArrayBuffer(8 * 4);
      const view = new Int32Array(cells);
      const n = 300 * SCALE;
      const styles = ['async', 'async', 'sync', 'sync'] as const;
      await runWorkers(styles.map((style) => ({ role: 'sem', handles: [semaphore.handle], cells, n, style, checks })));
      assert.equal(view[3], 0, `more than ${permits} units were in use at once`);
      assert.equal(view[0], styles.length * n);
      assert.equal(view[2], permits, `units in use never reached the permits (most: ${view[2]})`);
      assert.equal(semaphore.available, permits);
    });

    it('SharedCondition: 2 producers and 2 consumers through a 4-slot ring lose and duplicate nothing', async () => {
      (checks ? checkedMode : fastMode)();
      const mutex = new SharedMutex({ name: uniqueName('ring') });
      const notEmpty = new SharedCondition(mutex);
      const notFull = new SharedCondition(mutex);
      const capacity = 4;
      const cells = new SharedArrayBuffer((4 + capacity) * 4);
      new Int32Array(cells)[3] = capacity;
      const perProducer = 300 * SCALE;
      const handles = [mutex.handle, notEmpty.handle, notFull.handle];
      const results = await runWorkers([
        { role: 'producer', handles, cells, n: perProducer, checks },
        { role: 'producer', handles, cells, n: perProducer, checks },
        { role: 'consumer', handles, cells, n: perProducer, checks },
        { role: 'consumer', handles, cells, n: perProducer, checks },
      ]);
      const consumed = results.flat().filter((m): m is { type: 'consumed'; sum: number; count: number } => (m as { type: string }).type === 'consumed');
      assert.equal(consumed.length, 2);
      let expected = 0;
      for (let id = 0; id < 2; id++) for (let i = 0; i < perProducer; i++) expected += id * 1_000_000 + i;
      assert.equal(consumed.reduce((sum, m) => sum + m.sum, 0), expected, 'a value was lost or taken twice');
      assert.equal(new Int32Array(cells)[2], 0, 'the ring is not empty at the end');
      assert.equal(notEmpty.waiting + notFull.waiting, 0);
    });
  });
}

describe('SharedCondition in one thread', () => {
  it('wait releases the mutex, notify wakes one waiter, and the waiter holds the mutex again', async () => {
    fastMode();
    const mutex = new SharedMutex({ name: uniqueName('cond') });
    const condition = new SharedCondition(mutex);
    let ready = false;
    const waiter = (async () => {
      const guard = await mutex.lock();
      try {
        await condition.waitFor(guard, () => ready, { timeout: 5_000 });
        assert.equal(mutex.tryLock(), null, 'the waiter should hold the mutex again');
      } finally {
        guard.release();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(condition.waiting, 1);
    await mutex.run(() => {
      ready = true;
      assert.equal(condition.notify(), true);
    });
    await waiter;
    assert.equal(condition.notify(), false, 'nobody waits any more');
  });

  it('a notify goes to a flow already waiting, not to one that starts waiting after it', async () => {
    fastMode();
    const mutex = new SharedMutex({ name: uniqueName('cond') });
    const condition = new SharedCondition(mutex);
    const early = (async () => {
      const guard = await mutex.lock();
      try {
        await condition.wait(guard, { timeout: 2_000 });
        return 'notified';
      } catch (error) {
        return (error as { code?: string }).code;
      } finally {
        guard.release();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const guard = await mutex.lock();
    assert.equal(condition.notify(), true);
    // This flow starts waiting in the same turn, before the early waiter has run: the wake-up is not its.
    const late = await condition.wait(guard, { timeout: 100 }).then(
      () => 'notified',
      (error: { code?: string }) => error.code,
    );
    guard.release();
    assert.deepEqual([await early, late], ['notified', 'ERR_LOCK_TIMEOUT']);
    assert.equal(condition.waiting, 0);
  });

  it('times out with LockTimeoutError after re-acquiring, and refuses a guard of another mutex', async () => {
    fastMode();
    const mutex = new SharedMutex({ name: uniqueName('cond') });
    const other = new SharedMutex({ name: uniqueName('other') });
    const condition = new SharedCondition(mutex);
    const guard = await mutex.lock();
    const started = performance.now();
    await assert.rejects(condition.wait(guard, { timeout: 30 }), { code: 'ERR_LOCK_TIMEOUT' });
    assert.ok(performance.now() - started >= 25);
    assert.equal(mutex.tryLock(), null, 'the mutex is held again after the timeout');
    const otherGuard = await other.lock();
    await assert.rejects(condition.wait(otherGuard), /needs a held guard of the condition's own mutex/);
    otherGuard.release();
    guard.release();
    assert.throws(() => new SharedCondition({} as SharedMutex), /needs a deadbolt SharedMutex/);
  });

  it('checked mode refuses a wait while holding another lock', async () => {
    checkedMode();
    const mutex = new SharedMutex({ name: uniqueName('cond') });
    const outer = new SharedMutex({ name: uniqueName('outer') });
    const condition = new SharedCondition(mutex);
    const outerGuard = await outer.lock();
    const guard = await mutex.lock();
    await assert.rejects(condition.wait(guard, { timeout: 1_000 }), { code: 'ERR_LOCK_ORDER', kind: 'condition-wait' });
    guard.release();
    outerGuard.release();
  });

  it('abort ends the wait with the signal reason', async () => {
    fastMode();
    const mutex = new SharedMutex({ name: uniqueName('cond') });
    const condition = new SharedCondition(mutex);
    const guard = await mutex.lock();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop waiting')), 20);
    await assert.rejects(condition.wait(guard, { signal: controller.signal }), /stop waiting/);
    guard.release();
  });
});

it('a handle of the wrong kind, bad permits and bad weights are refused with errors that name them', async () => {
  const rw = new SharedRwLock();
  assert.throws(() => SharedSemaphore.from(rw.handle as never), /must be a SharedSemaphore handle.*got a SharedRwLock handle/);
  assert.throws(() => SharedMutex.from({ ...rw.handle, $deadbolt: 'SharedMutex' } as never), /is not a SharedMutex of this arena/);
  assert.throws(() => new SharedSemaphore(0), /permits must be an integer from 1/);
  const semaphore = new SharedSemaphore(2);
  await assert.rejects(semaphore.acquire(3), /weight must be an integer from 1 to 2/);
  assert.throws(() => semaphore.tryAcquire(1.5), /weight must be an integer/);
});
