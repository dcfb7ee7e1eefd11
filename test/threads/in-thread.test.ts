// SharedMutex seen from one thread: flows of the main thread queue FIFO and exclusively; a lock
// that a worker holds refuses tryLock, times out (naming the worker's thread) and aborts; lockSync
// refuses to block the thread while another flow of it holds or awaits the lock; handles that are
// not SharedMutex handles are refused with TypeError.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LockOrderError, LockTimeoutError, type Guard } from '../../dist/index.js';
import { SharedMutex, joinThreads, threadsContext, type SharedMutexHandle } from '../../dist/threads.js';
import { Flags, checkedMode, fastMode, inOtherFlow, rejectionOf, sleep, startWorker, stopWorkers, thrownBy, uniqueName, type ScriptedWorker } from './fixtures/harness.js';

after(stopWorkers);

/** A worker that takes `mutex` and holds it until released with `letGo`; resolves once it holds it. */
async function heldByWorker(mutex: SharedMutex, checks: boolean): Promise<{ worker: ScriptedWorker; letGo: () => Promise<void> }> {
  const control = new Flags();
  const holding = control.flag();
  const release = control.flag();
  const worker = startWorker(
    [{ op: 'lock', m: 0 }, { op: 'signal', flag: holding }, { op: 'await', flag: release }, { op: 'releaseAll' }],
    [mutex],
    { checks, control },
  );
  await control.wait(holding);
  return {
    worker,
    letGo: async () => {
      control.signal(release);
      const steps = await worker.finish();
      for (const step of steps) assert.ok(step.ok, `worker step ${step.op}: ${step.error?.message}`);
    },
  };
}

for (const checks of [true, false]) {
  const setup = checks ? checkedMode : fastMode;

  describe(`SharedMutex within one thread (${checks ? 'checked' : 'fast'} mode)`, { timeout: 20_000 }, () => {
    it('flows of one thread are granted in FIFO order, one at a time', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('fifo') });
      const order: number[] = [];
      let inside = 0;
      let most = 0;
      const first = await inOtherFlow(() => mutex.lock());
      const flows = [1, 2, 3, 4, 5].map((i) =>
        inOtherFlow(() =>
          mutex.run(async () => {
            inside += 1;
            most = Math.max(most, inside);
            order.push(i);
            await sleep(1);
            inside -= 1;
          }),
        ),
      );
      await sleep(5);
      assert.deepEqual(order, [], 'nobody gets in while the first flow holds it');
      assert.equal(mutex.tryLock(), null);
      first.release();
      await Promise.all(flows);
      assert.deepEqual(order, [1, 2, 3, 4, 5]);
      assert.equal(most, 1);
      const again = mutex.tryLock();
      assert.notEqual(again, null);
      again?.release();
    });

    if (checks) it('AB/BA between two flows of this thread: exactly one DeadlockError, the other flow completes', async () => {
      setup();
      const [a, b] = [new SharedMutex({ name: uniqueName('flows-a') }), new SharedMutex({ name: uniqueName('flows-b') })];
      const outcome = (promise: Promise<unknown>): Promise<string> =>
        promise.then(
          () => 'ok',
          (error: unknown) => (error as Error).name,
        );
      const take = (first: SharedMutex, second: SharedMutex, delay: number) =>
        inOtherFlow(async () => {
          const guard = await first.lock();
          await sleep(delay);
          const result = await outcome(second.lock({ timeout: 2_000 }).then((held) => held.release()));
          guard.release();
          return result;
        });
      const results = await Promise.all([take(a, b, 5), take(b, a, 30)]);
      assert.deepEqual(results, ['ok', 'DeadlockError']);
    });

    it('tryLock returns null while a worker holds the lock, and a guard once it is released', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('try') });
      const { letGo } = await heldByWorker(mutex, checks);
      assert.equal(mutex.tryLock(), null);
      assert.equal(mutex.tryLock(), null, 'a failed tryLock leaves nothing behind');
      await letGo();
      const guard = mutex.tryLock();
      assert.notEqual(guard, null);
      assert.equal(guard?.held, true);
      assert.equal(mutex.ownerDied, false);
      guard?.release();
      assert.equal(guard?.held, false);
    });

    it('a lock() timeout while a worker holds the lock rejects with LockTimeoutError naming that thread', async () => {
      setup();
      const name = uniqueName('timeout');
      const mutex = new SharedMutex({ name });
      const { worker, letGo } = await heldByWorker(mutex, checks);
      const started = performance.now();
      const error = await rejectionOf(mutex.lock({ timeout: 40 }));
      const elapsed = performance.now() - started;
      assert.ok(error instanceof LockTimeoutError, String(error));
      assert.equal(error.code, 'ERR_LOCK_TIMEOUT');
      assert.equal(error.timeout, 40);
      assert.match(error.message, new RegExp(name));
      assert.match(error.report, new RegExp(`held by thread ${worker.threadId}\\b`));
      assert.ok(elapsed >= 39 && elapsed < 1_000, `timed out after ${elapsed.toFixed(1)} ms`);
      assert.ok((await rejectionOf(mutex.lock({ timeout: 0 }))) instanceof LockTimeoutError, 'timeout 0 fails at once');
      // The failed wait left nothing behind: after the worker lets go, this thread takes it at once.
      await letGo();
      const guard = await mutex.lock({ timeout: 1_000 });
      guard.release();
    });

    it('lockSync() with a timeout while a worker holds the lock throws LockTimeoutError', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('sync-timeout') });
      const { worker, letGo } = await heldByWorker(mutex, checks);
      const started = performance.now();
      const error = thrownBy(() => mutex.lockSync({ timeout: 30 }));
      const elapsed = performance.now() - started;
      assert.ok(error instanceof LockTimeoutError, String(error));
      assert.match(error.report, new RegExp(`held by thread ${worker.threadId}\\b`));
      assert.ok(elapsed >= 29 && elapsed < 1_000, `timed out after ${elapsed.toFixed(1)} ms`);
      assert.ok(thrownBy(() => mutex.lockSync({ timeout: 0 })) instanceof LockTimeoutError, 'timeout 0 fails at once');
      for (const timeout of [-1, Number.NaN, '10']) assert.throws(() => mutex.lockSync({ timeout: timeout as number }), RangeError);
      await letGo();
      const guard = mutex.lockSync({ timeout: 1_000 });
      guard.release();
    });

    it('aborting a lock() while a worker holds the lock rejects with the reason, at once', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('abort') });
      const { letGo } = await heldByWorker(mutex, checks);
      const controller = new AbortController();
      const reason = new Error('no longer needed');
      const pending = mutex.lock({ signal: controller.signal });
      await sleep(15);
      const aborted = performance.now();
      controller.abort(reason);
      const error = await rejectionOf(pending);
      assert.equal(error, reason);
      assert.ok(performance.now() - aborted < 100, 'the abort is seen within a slice of the wait');
      // An already-aborted signal rejects without waiting.
      const done = new AbortController();
      done.abort(reason);
      assert.equal(await rejectionOf(mutex.lock({ signal: done.signal })), reason);
      await letGo();
      const guard = await mutex.lock({ signal: new AbortController().signal, timeout: 1_000 });
      guard.release();
    });

    it('a flow of this thread waiting behind a worker keeps later flows of this thread queued behind it', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('behind') });
      const { letGo } = await heldByWorker(mutex, checks);
      const order: number[] = [];
      const flows = [1, 2, 3].map((i) => inOtherFlow(() => mutex.run(() => void order.push(i), { timeout: 5_000 })));
      await sleep(10);
      assert.deepEqual(order, []);
      await letGo();
      await Promise.all(flows);
      assert.deepEqual(order, [1, 2, 3]);
    });

    it('lockSync() refuses while another flow of this thread holds the lock', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('refuse') });
      let letGo!: () => void;
      const released = new Promise<void>((resolve) => (letGo = resolve));
      const holder = inOtherFlow(() => mutex.run(() => released));
      await sleep(1);
      const started = performance.now();
      const error = thrownBy(() => mutex.lockSync({ timeout: 1_000 }));
      assert.ok(performance.now() - started < 100, 'refused at once, without blocking');
      assert.ok(error instanceof Error && !(error instanceof LockTimeoutError), String(error));
      assert.match((error as Error).message, /another flow of this thread holds or awaits this lock/);
      letGo();
      await holder;
      const guard = mutex.lockSync({ timeout: 1_000 });
      assert.equal(guard.held, true);
      guard.release();
    });

    it('lockSync() refuses while another flow of this thread awaits the lock (held by a worker)', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('refuse-waiting') });
      const { letGo } = await heldByWorker(mutex, checks);
      const waiting = inOtherFlow(() => mutex.run(() => 'waited', { timeout: 5_000 }));
      await sleep(5);
      const started = performance.now();
      const error = thrownBy(() => mutex.lockSync({ timeout: 1_000 }));
      assert.ok(performance.now() - started < 100, 'refused at once, without blocking');
      assert.match((error as Error).message, /another flow of this thread holds or awaits this lock/);
      await letGo();
      assert.equal(await waiting, 'waited');
      mutex.lockSync({ timeout: 1_000 }).release();
    });

    it(checks ? 'lockSync() in the flow that holds the lock is a recursive LockOrderError' : 'lockSync() in the flow that holds the lock is refused', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('self') });
      const guard: Guard = await mutex.lock();
      const error = thrownBy(() => mutex.lockSync({ timeout: 1_000 }));
      if (checks) {
        assert.ok(error instanceof LockOrderError, String(error));
        assert.equal(error.kind, 'recursive');
      } else {
        assert.match((error as Error).message, /another flow of this thread/);
      }
      guard.release();
      mutex.lockSync().release();
    });
  });
}

describe('SharedMutex handles', () => {
  it('a handle rebuilds the same lock in the same thread', async () => {
    checkedMode();
    const mutex = new SharedMutex({ name: uniqueName('same'), rank: 5 });
    const handle = mutex.handle;
    assert.equal(handle.$deadbolt, 'SharedMutex');
    assert.equal(handle.rank, 5);
    assert.ok(handle.arena instanceof SharedArrayBuffer);
    assert.equal(handle.arena, threadsContext().arena);
    const copy = SharedMutex.from(structuredClone(handle));
    assert.equal(copy.label, mutex.label);
    const guard = await mutex.lock();
    assert.equal(copy.tryLock(), null, 'both objects are one lock');
    guard.release();
    const other = copy.tryLock();
    assert.notEqual(other, null);
    assert.equal(mutex.tryLock(), null);
    other?.release();
  });

  it('SharedMutex.from refuses what is not a handle with TypeError', () => {
    const mutex = new SharedMutex({ name: uniqueName('handle') });
    const good = mutex.handle;
    const bad: unknown[] = [
      null,
      undefined,
      42,
      'SharedMutex',
      {},
      { ...good, $deadbolt: 'Mutex' },
      { ...good, arena: new ArrayBuffer(good.arena.byteLength) },
      { ...good, arena: undefined },
      { $deadbolt: 'SharedMutex' },
    ];
    for (const handle of bad) {
      assert.throws(() => SharedMutex.from(handle as SharedMutexHandle), TypeError, `handle ${JSON.stringify(handle) ?? String(handle)}`);
    }
  });

  // A forged or corrupted lock index would put the rebuilt mutex's futex word outside its lock's
  // slot (lock -1 in the thread table, 5000 in the published-waits table that every thread reads),
  // and a never-allocated index would get rank 0 from the zero-filled rank table.
  it('SharedMutex.from refuses a handle whose lock index is not an allocated lock of the arena', () => {
    const good = new SharedMutex({ name: uniqueName('index') }).handle;
    for (const lock of [-1, 1.5, Number.NaN, '0', 4_096, 5_000, 4_000]) {
      assert.throws(() => SharedMutex.from({ ...good, name: uniqueName('forged'), lock } as unknown as SharedMutexHandle), TypeError, `lock ${String(lock)} was accepted`);
    }
  });

  it('joinThreads refuses what is not a context with TypeError', () => {
    for (const context of [null, undefined, {}, { arena: new ArrayBuffer(8) }, 'arena']) {
      assert.throws(() => joinThreads(context as never), TypeError);
    }
    // The thread's own context is fine to join again.
    joinThreads(threadsContext());
  });
});
