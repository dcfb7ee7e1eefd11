// A worker that dies holding a shared lock (worker.terminate(), or process.exit in the worker)
// never releases it. The thread that created the worker learns of the exit (Node's
// 'worker_threads' diagnostics channel) and marks the thread dead in the arena; the next
// acquirer, or a waiter that was already waiting, takes the lock over with ownerDied === true.
// Once it is released, ownerDied is false again and the lock works as before.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SharedMutex } from '../../dist/threads.js';
import { Flags, checkedMode, fastMode, inOtherFlow, sleep, startWorker, stopWorkers, uniqueName, within, type ScriptedWorker, type StepResult } from './fixtures/harness.js';

after(stopWorkers);

/** After the holder's death, the lock must be taken over this soon. */
const TAKEOVER_WITHIN_MS = 100;

/** A worker that takes `mutexes` (in order) and then hangs holding them, or exits with `exitCode` on `go`. */
async function dyingHolder(mutexes: readonly SharedMutex[], checks: boolean, exitCode?: number): Promise<{ worker: ScriptedWorker; go: () => void }> {
  const control = new Flags();
  const holding = control.flag();
  const go = control.flag();
  const worker = startWorker(
    [...mutexes.map((_, m) => ({ op: 'lock' as const, m })), { op: 'signal', flag: holding }, ...(exitCode === undefined ? [{ op: 'hang' as const }] : [{ op: 'await' as const, flag: go }, { op: 'exit' as const, code: exitCode }])],
    mutexes,
    { checks, control },
  );
  await control.wait(holding);
  return { worker, go: () => control.signal(go) };
}

/** The lock works as if nothing had happened: uncontended, contended by a worker, and ownerDied stays false. */
async function worksNormally(mutex: SharedMutex, checks: boolean): Promise<void> {
  const guard = await mutex.lock({ timeout: 1_000 });
  assert.equal(mutex.ownerDied, false);
  guard.release();
  const sync = mutex.lockSync({ timeout: 1_000 });
  assert.equal(mutex.ownerDied, false);
  const results = startWorker([{ op: 'lock', m: 0, timeout: 5_000 }, { op: 'releaseAll' }], [mutex], { checks, control: new Flags() }).finish();
  await sleep(20);
  sync.release();
  const [locked, released] = (await results) as [StepResult, StepResult];
  assert.ok(locked.ok, `${locked.error?.name}: ${locked.error?.message}`);
  assert.equal(locked.ownerDied, false, 'a live owner that released is no dead owner');
  assert.ok(released.ok);
  const again = mutex.tryLock();
  assert.notEqual(again, null);
  assert.equal(mutex.ownerDied, false);
  again?.release();
}

for (const checks of [true, false]) {
  const setup = checks ? checkedMode : fastMode;

  describe(`owner died (${checks ? 'checked' : 'fast'} mode)`, { timeout: 20_000 }, () => {
    it('worker.terminate() while holding: the next lock() takes it over with ownerDied, then it works normally', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('terminated') });
      const { worker } = await dyingHolder([mutex], checks);
      assert.equal(mutex.tryLock(), null, 'the live worker holds it');
      const started = performance.now();
      const terminated = worker.terminate();
      const guard = await mutex.lock({ timeout: 2_000 });
      const elapsed = performance.now() - started;
      assert.ok(elapsed < TAKEOVER_WITHIN_MS, `taken over ${elapsed.toFixed(1)} ms after terminate()`);
      assert.equal(mutex.ownerDied, true);
      assert.equal(guard.held, true);
      await terminated;
      guard.release();
      assert.equal(mutex.ownerDied, false);
      await worksNormally(mutex, checks);
    });

    it('process.exit() in the worker while holding: a lock() already waiting takes it over', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('exited') });
      const { worker, go } = await dyingHolder([mutex], checks, 3);
      let got = Number.NaN;
      const pending = mutex.lock({ timeout: 5_000 }).then((guard) => {
        got = performance.now();
        return guard;
      });
      await sleep(20);
      assert.ok(Number.isNaN(got), 'still waiting while the worker lives');
      go();
      assert.equal(await within(worker.exited, 5_000, () => 'the worker did not exit'), 3);
      const exited = performance.now();
      const guard = await pending;
      assert.ok(got - exited < TAKEOVER_WITHIN_MS, `taken over ${(got - exited).toFixed(1)} ms after the exit event`);
      assert.equal(mutex.ownerDied, true);
      guard.release();
      assert.equal(mutex.ownerDied, false);
      await worksNormally(mutex, checks);
    });

    it('a tryLock() after the holder died takes it over too', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('try-dead') });
      const { worker } = await dyingHolder([mutex], checks);
      await worker.terminate();
      const guard = mutex.tryLock();
      assert.notEqual(guard, null);
      assert.equal(mutex.ownerDied, true);
      guard?.release();
      assert.equal(mutex.ownerDied, false);
      await worksNormally(mutex, checks);
    });

    it('every lock the dead worker held is taken over', async () => {
      setup();
      const mutexes = [uniqueName('many'), uniqueName('many'), uniqueName('many')].map((name, i) => new SharedMutex({ name, rank: i + 1 }));
      const { worker } = await dyingHolder(mutexes, checks);
      await worker.terminate();
      for (const mutex of mutexes) {
        const guard = await mutex.lock({ timeout: 1_000 });
        assert.equal(mutex.ownerDied, true, mutex.label);
        guard.release();
        assert.equal(mutex.ownerDied, false);
      }
    });

    it('flows of this thread queued behind the dead owner: the first gets ownerDied, the next a clean lock', async () => {
      setup();
      const mutex = new SharedMutex({ name: uniqueName('queued') });
      const { worker } = await dyingHolder([mutex], checks);
      const seen: boolean[] = [];
      const flows = [0, 1, 2].map(() =>
        inOtherFlow(() =>
          mutex.run(
            () => {
              seen.push(mutex.ownerDied);
            },
            { timeout: 5_000 },
          ),
        ),
      );
      await sleep(10);
      assert.deepEqual(seen, []);
      await worker.terminate();
      await Promise.all(flows);
      assert.deepEqual(seen, [true, false, false]);
    });

    for (const style of ['lock', 'lockSync'] as const) {
      it(`a worker already waiting in ${style}() when the holder worker is terminated takes the lock over`, async () => {
        setup();
        const mutex = new SharedMutex({ name: uniqueName(`waiter-${style}`) });
        const { worker: holder } = await dyingHolder([mutex], checks);
        const waiter = startWorker([{ op: 'sleep', ms: 0 }, { op: style, m: 0, timeout: 5_000 }, { op: 'releaseAll' }], [mutex], { checks, control: new Flags() });
        await waiter.step(0);
        await sleep(30);
        const started = performance.now();
        await holder.terminate();
        const [, took, released] = (await waiter.finish()) as [StepResult, StepResult, StepResult];
        assert.ok(took.ok, `${took.error?.name}: ${took.error?.message}`);
        assert.equal(took.ownerDied, true, 'the waiter sees ownerDied');
        assert.ok(released.ok);
        assert.ok(performance.now() - started < 1_000);
        assert.equal(mutex.ownerDied, false, 'this thread took nothing over');
        await worksNormally(mutex, checks);
      });
    }
  });
}
