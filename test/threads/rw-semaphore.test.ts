// SharedRwLock and SharedSemaphore across real worker threads, step by step: reads share across
// threads, a writer waits for every reader and holds back new ones, cross-thread cycles through
// read holds and permits are reported (and only once every holder on them is blocked), and
// what a dead thread held is given back with ownerDied set.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SharedMutex, SharedRwLock, SharedSemaphore } from '../../dist/threads.js';
import { Flags, checkedMode, fastMode, inOtherFlow, sleep, startWorker, stopWorkers, uniqueName, type StepResult } from './fixtures/harness.js';

after(stopWorkers);

const DETECT_WITHIN_MS = 50;

function assertDeadlock(result: StepResult | undefined, who: string): void {
  assert.ok(result !== undefined, `${who}: no result`);
  assert.equal(result.ok, false, `${who} should have been refused, but got the lock after ${result.elapsed.toFixed(1)} ms`);
  assert.equal(result.error?.code, 'ERR_DEADLOCK', `${who}: ${result.error?.name}: ${result.error?.message}`);
  assert.ok(result.elapsed < DETECT_WITHIN_MS, `${who} was told after ${result.elapsed.toFixed(1)} ms`);
}

describe('SharedRwLock across threads', { timeout: 20_000 }, () => {
  it('two threads read at once; a writer waits for both and then gets the lock', async () => {
    fastMode();
    const lock = new SharedRwLock({ name: uniqueName('rw') });
    const control = new Flags();
    const [a, b, done] = [control.flag(), control.flag(), control.flag()];
    const first = startWorker([{ op: 'read', m: 0, timeout: 2_000 }, { op: 'signal', flag: a }, { op: 'await', flag: b }, { op: 'await', flag: done }, { op: 'releaseAll' }], [lock], { checks: false, control });
    const second = startWorker([{ op: 'await', flag: a }, { op: 'read', m: 0, timeout: 2_000 }, { op: 'signal', flag: b }, { op: 'await', flag: done }, { op: 'releaseAll' }], [lock], { checks: false, control });
    await control.wait(b);
    assert.equal(lock.tryWrite(), null, 'a writer got in while two threads read');
    const writing = lock.write({ timeout: 5_000 });
    await sleep(20);
    control.signal(done);
    const guard = await writing;
    for (const results of await Promise.all([first.finish(), second.finish()])) for (const step of results) assert.ok(step.ok, `${step.op}: ${step.error?.message}`);
    guard.release();
  });

  it('a waiting writer holds back new readers in other threads (writers are not starved)', async () => {
    fastMode();
    const lock = new SharedRwLock({ name: uniqueName('rw') });
    const reading = await lock.read();
    const control = new Flags();
    const writerWaits = control.flag();
    const writer = startWorker([{ op: 'signal', flag: writerWaits }, { op: 'write', m: 0, timeout: 5_000 }, { op: 'releaseAll' }], [lock], { checks: false, control });
    await control.wait(writerWaits);
    await sleep(30);
    const reader = startWorker([{ op: 'read', m: 0, timeout: 60 }], [lock], { checks: false, control });
    const [readResult] = await reader.finish();
    assert.equal(readResult?.ok, false, 'a new reader got in past the waiting writer');
    assert.equal(readResult?.error?.code, 'ERR_LOCK_TIMEOUT');
    reading.release();
    const [, writeResult] = await writer.finish();
    assert.ok(writeResult?.ok, writeResult?.error?.message);
    const again = lock.tryRead();
    assert.ok(again !== null, 'readers get in again once the writer is done');
    again.release();
  });

  for (const sync of [false, true]) {
    it(`a write/read cycle across two threads is reported (${sync ? 'sync' : 'async'} waits)`, async () => {
      checkedMode();
      const a = new SharedRwLock({ name: uniqueName('rwA') });
      const b = new SharedRwLock({ name: uniqueName('rwB') });
      const control = new Flags();
      const [holdsA, holdsB] = [control.flag(), control.flag()];
      const op = sync ? 'readSync' : 'read';
      const first = startWorker([{ op: sync ? 'writeSync' : 'write', m: 0 }, { op: 'signal', flag: holdsA }, { op: 'await', flag: holdsB, sync }, { op, m: 1, timeout: 10_000 }, { op: 'releaseAll' }], [a, b], { checks: true, control });
      const second = startWorker([{ op: sync ? 'writeSync' : 'write', m: 1 }, { op: 'signal', flag: holdsB }, { op: 'await', flag: holdsA, sync }, { op: 'sleep', ms: 40, sync }, { op, m: 0, timeout: 10_000 }, { op: 'releaseAll' }], [a, b], { checks: true, control });
      const [r1, r2] = await Promise.all([first.finish(), second.finish()]);
      assertDeadlock(r2?.[4], 'the later reader');
      assert.match(r2?.[4]?.error?.report ?? '', /Cross-thread wait-for cycle/);
      assert.ok(r1?.[3]?.ok, `the other reader goes on: ${r1?.[3]?.error?.message}`);
    });
  }

  it('a cycle through a lock read by two threads counts only once both readers are blocked', async () => {
    checkedMode();
    const a = new SharedRwLock({ name: uniqueName('rwA') });
    const b = new SharedMutex({ name: uniqueName('mB') });
    const control = new Flags();
    const [r1Reads, r2Reads, r3HoldsB, r2Release] = [control.flag(), control.flag(), control.flag(), control.flag()];
    // Reader 1 reads A then waits for B; thread 3 holds B and waits to write A. Reader 2 also
    // reads A, but is running (not blocked): no deadlock yet. Once reader 2 blocks on B as well,
    // every holder of A is blocked: now it is one, and reader 2 (whose wait began last) is the
    // victim. Its read of A goes, but reader 1 and thread 3 still wait for each other: that
    // cycle's later waiter, thread 3, is refused next, and reader 1 goes on.
    const reader1 = startWorker([{ op: 'read', m: 0 }, { op: 'signal', flag: r1Reads }, { op: 'await', flag: r3HoldsB }, { op: 'lock', m: 1, timeout: 10_000 }, { op: 'releaseAll' }], [a, b], { checks: true, control });
    const reader2 = startWorker([{ op: 'read', m: 0 }, { op: 'signal', flag: r2Reads }, { op: 'await', flag: r2Release }, { op: 'lock', m: 1, timeout: 10_000 }, { op: 'releaseAll' }], [a, b], { checks: true, control });
    await control.wait(r1Reads);
    await control.wait(r2Reads);
    const writer = startWorker([{ op: 'lock', m: 1 }, { op: 'signal', flag: r3HoldsB }, { op: 'sleep', ms: 20 }, { op: 'write', m: 0, timeout: 10_000 }, { op: 'releaseAll' }], [a, b], { checks: true, control });
    await sleep(200);
    assert.equal(reader1.finished || writer.finished, false, 'nothing is decided while reader 2 runs');
    control.signal(r2Release);
    const [res1, res2, res3] = await Promise.all([reader1.finish(), reader2.finish(), writer.finish()]);
    const outcomes = [res1?.[3], res2?.[3], res3?.[3]].map((step) => (step?.ok ? 'ok' : step?.error?.code));
    assert.deepEqual(outcomes, ['ok', 'ERR_DEADLOCK', 'ERR_DEADLOCK'], 'reader 1 goes on; reader 2, then thread 3, are the victims');
  });

  it('a worker that dies holding the write lock: the next writer gets it with ownerDied', async () => {
    fastMode();
    const lock = new SharedRwLock({ name: uniqueName('rw') });
    const control = new Flags();
    const holds = control.flag();
    const dying = startWorker([{ op: 'write', m: 0 }, { op: 'signal', flag: holds }, { op: 'hang' }], [lock], { checks: false, control });
    await control.wait(holds);
    assert.equal(lock.tryRead(), null);
    const next = lock.write({ timeout: 5_000 });
    await dying.worker.terminate();
    const guard = await next;
    assert.equal(lock.ownerDied, true);
    guard.release();
    assert.equal(lock.ownerDied, false);
    const clean = await lock.read({ timeout: 100 });
    assert.equal(lock.ownerDied, false, 'the flag is for the first acquisition only');
    clean.release();
  });
});

describe('SharedSemaphore across threads', { timeout: 20_000 }, () => {
  it('permits are counted across threads, and a dead thread\'s permits are given back with ownerDied', async () => {
    fastMode();
    const semaphore = new SharedSemaphore(3, { name: uniqueName('sem') });
    const control = new Flags();
    const holds = control.flag();
    const dying = startWorker([{ op: 'acquire', m: 0, weight: 2 }, { op: 'signal', flag: holds }, { op: 'exit', code: 0 }], [semaphore], { checks: false, control });
    await control.wait(holds);
    await dying.exited;
    const guard = await semaphore.acquire(3, { timeout: 5_000 });
    assert.equal(semaphore.ownerDied, true);
    assert.equal(semaphore.available, 0);
    guard.release();
    assert.equal(semaphore.available, 3);
  });

  it('a worker waiting in acquireSync gets units as soon as another thread releases them', async () => {
    fastMode();
    const semaphore = new SharedSemaphore(2, { name: uniqueName('sem') });
    const held = await semaphore.acquire(2);
    const control = new Flags();
    const waits = control.flag();
    const waiter = startWorker([{ op: 'signal', flag: waits }, { op: 'acquireSync', m: 0, weight: 1, timeout: 5_000 }, { op: 'releaseAll' }], [semaphore], { checks: false, control });
    await control.wait(waits);
    await sleep(30);
    assert.equal(waiter.finished, false);
    held.release();
    const [, result] = await waiter.finish();
    assert.ok(result?.ok, result?.error?.message);
    assert.ok((result?.elapsed ?? 0) >= 20, 'the worker did wait');
  });

  it('a cycle of two single-permit semaphores across threads is reported; with a spare permit it is not', async () => {
    checkedMode();
    for (const permits of [1, 2]) {
      const a = new SharedSemaphore(permits, { name: uniqueName('semA') });
      const b = new SharedSemaphore(permits, { name: uniqueName('semB') });
      const control = new Flags();
      const [holdsA, holdsB] = [control.flag(), control.flag()];
      const first = startWorker([{ op: 'acquire', m: 0 }, { op: 'signal', flag: holdsA }, { op: 'await', flag: holdsB }, { op: 'acquire', m: 1, timeout: 2_000 }, { op: 'releaseAll' }], [a, b], { checks: true, control });
      const second = startWorker([{ op: 'acquire', m: 1 }, { op: 'signal', flag: holdsB }, { op: 'await', flag: holdsA }, { op: 'sleep', ms: 40 }, { op: 'acquire', m: 0, timeout: 2_000 }, { op: 'releaseAll' }], [a, b], { checks: true, control });
      const [r1, r2] = await Promise.all([first.finish(), second.finish()]);
      if (permits === 1) {
        assertDeadlock(r2?.[4], 'the later acquirer');
        assert.ok(r1?.[3]?.ok, r1?.[3]?.error?.message);
      } else {
        assert.ok(r1?.[3]?.ok && r2?.[4]?.ok, 'with a spare permit both get theirs');
      }
    }
  });

  it('a cycle between the main thread (async) and a worker through a semaphore and a mutex', async () => {
    checkedMode();
    const sem = new SharedSemaphore(1, { name: uniqueName('sem') });
    const mutex = new SharedMutex({ name: uniqueName('m') });
    const control = new Flags();
    const workerHolds = control.flag();
    const worker = startWorker([{ op: 'lock', m: 1 }, { op: 'signal', flag: workerHolds }, { op: 'sleep', ms: 30 }, { op: 'acquire', m: 0, timeout: 5_000 }, { op: 'releaseAll' }], [sem, mutex], { checks: true, control });
    const outcome = await inOtherFlow(async () => {
      const guard = await sem.acquire();
      await control.wait(workerHolds);
      try {
        await mutex.lock({ timeout: 5_000 });
        return 'granted';
      } catch (error) {
        return (error as { code?: string }).code;
      } finally {
        guard.release();
      }
    });
    const results = await worker.finish();
    // The worker's wait began last (it slept 30 ms first), so it is the victim and main goes on.
    assertDeadlock(results[3], 'the worker');
    assert.equal(outcome, 'granted');
  });
});
