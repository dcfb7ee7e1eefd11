import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { Condition, DeadlockError, LockOrderError, LockTimeoutError, Mutex, RwLock, Semaphore, lockAll, type Guard } from '../../src/index.js';
import { contend, track } from '../support/flows.js';
import { checkedMode, fastMode, inOtherFlow, rejectionOf, settle, sleep } from '../support/helpers.js';

for (const mode of ['fast', 'checked'] as const) {
  describe(`Condition (${mode} mode)`, { timeout: 20_000 }, () => {
    beforeEach(() => (mode === 'fast' ? fastMode() : checkedMode()));

    it('new Condition() needs a deadbolt Mutex', () => {
      for (const bad of [undefined, null, {}, new RwLock(), new Semaphore(1), { lock: () => undefined }]) {
        assert.throws(() => new Condition(bad as unknown as Mutex), { name: 'TypeError', message: /needs a deadbolt Mutex/ });
      }
      const cond = new Condition(new Mutex());
      assert.equal(cond.waiting, 0);
    });

    it('wait releases the mutex while waiting and holds it again before returning', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const waited = track(cond.wait(guard));
      await settle();
      assert.equal(mutex.isLocked, false, 'the mutex is free during the wait');
      assert.equal(cond.waiting, 1);
      assert.equal(waited.settled, false);

      // Another flow takes the mutex and notifies while holding it.
      const notifier = contend(() => mutex.lock());
      await notifier.done;
      assert.equal(cond.notify(), true);
      assert.equal(cond.waiting, 0);
      await settle();
      await settle();
      assert.equal(waited.settled, false, 'the waiter cannot return while the notifier holds the mutex');
      notifier.release();
      await waited.promise;
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      assert.equal(inOtherFlow(() => mutex.tryLock()), null, 'the waiter holds the mutex again');
      guard.release();
      assert.equal(mutex.isLocked, false);
      assert.equal(guard.held, false);
    });

    it('wait gives the mutex up and joins the wait set in one step', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const waited = cond.wait(guard);
      // Synchronously after the call: no notify can fall between the release and the wait.
      assert.equal(mutex.isLocked, false);
      assert.equal(cond.waiting, 1);
      assert.equal(cond.notify(), true);
      await waited;
      assert.equal(guard.held, true);
      guard.release();
    });

    it('notify wakes the longest waiter and reports whether anyone was waiting', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const woken: number[] = [];
      const waiters: Promise<void>[] = [];
      for (const id of [1, 2, 3]) {
        waiters.push(
          inOtherFlow(async () => {
            const guard = await mutex.lock();
            await cond.wait(guard);
            assert.equal(guard.held, true);
            woken.push(id);
            guard.release();
          }),
        );
        await settle();
      }
      assert.equal(cond.waiting, 3);
      assert.equal(mutex.isLocked, false);
      assert.equal(cond.notify(), true);
      await settle();
      assert.deepEqual(woken, [1]);
      assert.equal(cond.waiting, 2);
      assert.equal(cond.notify(), true);
      await settle();
      assert.deepEqual(woken, [1, 2]);
      assert.equal(cond.notify(), true);
      await Promise.all(waiters);
      assert.deepEqual(woken, [1, 2, 3]);
      assert.equal(cond.notify(), false);
      assert.equal(cond.waiting, 0);
    });

    it('a waiter that timed out does not take a later notify from the others', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const outcomes: string[] = [];
      const waiters: Promise<void>[] = [];
      for (const [id, timeout] of [
        [1, 15],
        [2, 5_000],
      ] as const) {
        waiters.push(
          inOtherFlow(async () => {
            const guard = await mutex.lock();
            try {
              await cond.wait(guard, { timeout });
              outcomes.push(`${id} notified`);
            } catch (error) {
              outcomes.push(`${id} ${error instanceof LockTimeoutError ? 'timed out' : String(error)}`);
            }
            guard.release();
          }),
        );
        await settle();
      }
      await sleep(40);
      assert.deepEqual(outcomes, ['1 timed out']);
      assert.equal(cond.waiting, 1);
      assert.equal(cond.notify(), true);
      await Promise.all(waiters);
      assert.deepEqual(outcomes, ['1 timed out', '2 notified']);
      assert.equal(mutex.isLocked, false);
    });

    it('notifyAll wakes every waiter, returns the count, and they take the mutex in FIFO order', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const woken: number[] = [];
      let inside = 0;
      let overlap = false;
      const waiters: Promise<void>[] = [];
      for (const id of [1, 2, 3, 4]) {
        waiters.push(
          inOtherFlow(async () => {
            const guard = await mutex.lock();
            await cond.wait(guard);
            inside++;
            if (inside > 1) overlap = true;
            woken.push(id);
            await settle();
            inside--;
            guard.release();
          }),
        );
        await settle();
      }
      assert.equal(cond.notifyAll(), 4);
      assert.equal(cond.waiting, 0);
      await Promise.all(waiters);
      assert.deepEqual(woken, [1, 2, 3, 4]);
      assert.equal(overlap, false, 'woken waiters hold the mutex one at a time');
      assert.equal(cond.notifyAll(), 0);
      assert.equal(mutex.isLocked, false);
    });

    it('waitFor checks the predicate under the mutex and waits until it holds', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const items: number[] = [];
      let checks = 0;
      let checkedUnlocked = false;
      const consumer = contend(async () => {
        const guard = await mutex.lock();
        await cond.waitFor(guard, () => {
          checks++;
          if (!guard.held || !mutex.isLocked) checkedUnlocked = true;
          return items.length >= 2;
        });
        return guard;
      });
      await settle();
      assert.equal(checks, 1);
      assert.equal(cond.waiting, 1);

      await mutex.run(() => {
        items.push(1);
        cond.notify();
      });
      await settle();
      assert.equal(checks, 2, 'woken, the predicate was checked again');
      assert.equal(consumer.granted, false, 'the predicate was false: it waits again');
      assert.equal(cond.waiting, 1);

      assert.equal(cond.notify(), true, 'a notify without a change: the predicate is checked and it waits again');
      await settle();
      assert.equal(checks, 3);
      assert.equal(consumer.granted, false);

      await mutex.run(() => {
        items.push(2);
        cond.notify();
      });
      const guard = await consumer.done;
      assert.equal(checks, 4);
      assert.equal(checkedUnlocked, false);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      guard.release();
      assert.equal(mutex.isLocked, false);
    });

    it('waitFor returns at once when the predicate already holds', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      let checks = 0;
      await cond.waitFor(guard, () => ++checks > 0, { timeout: 10 });
      assert.equal(checks, 1);
      assert.equal(cond.waiting, 0);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      guard.release();
    });

    it('a predicate that throws rejects waitFor with its error, the mutex held', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const failure = new Error('bad predicate');
      let checks = 0;
      const waited = cond.waitFor(guard, () => {
        if (++checks === 2) throw failure;
        return false;
      });
      await settle();
      assert.equal(cond.notify(), true);
      assert.equal(await rejectionOf(waited), failure);
      assert.equal(checks, 2);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      assert.equal(cond.waiting, 0);
      guard.release();
    });

    it('an aborted waitFor rejects with signal.reason, the mutex held', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const controller = new AbortController();
      const waited = cond.waitFor(guard, () => false, { signal: controller.signal });
      await settle();
      const reason = new Error('enough');
      controller.abort(reason);
      assert.equal(await rejectionOf(waited), reason);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      assert.equal(cond.waiting, 0);
      guard.release();
    });

    it('waitFor rejects a predicate that is not a function', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      await assert.rejects(cond.waitFor(guard, true as unknown as () => boolean), { name: 'TypeError', message: /predicate must be a function/ });
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      guard.release();
    });

    it('a wait that times out rejects with LockTimeoutError only after re-acquiring the mutex', async () => {
      const mutex = new Mutex({ name: `cond-timeout-${mode}` });
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const started = performance.now();
      const waited = track(cond.wait(guard, { timeout: 20 }));
      // Someone else takes the mutex (free at once: wait gave it up) and holds it past the timeout.
      const other = inOtherFlow(() => mutex.tryLock());
      assert.ok(other);
      await sleep(60);
      assert.equal(waited.settled, false, 'the timed-out wait is still re-acquiring the mutex');
      assert.equal(cond.waiting, 0, 'the timed-out waiter left the wait set');
      other.release();
      const error = await rejectionOf(waited.promise);
      assert.ok(error instanceof LockTimeoutError);
      assert.equal(error.timeout, 20);
      assert.match(error.message, /condition of Mutex "cond-timeout-/);
      assert.ok(performance.now() - started >= 15);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      assert.equal(inOtherFlow(() => mutex.tryLock()), null, 'the mutex is held by the waiter');
      guard.release();
      assert.equal(mutex.isLocked, false);
    });

    it('a wait that times out with the mutex free re-acquires it and rejects', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const error = await rejectionOf(cond.wait(guard, { timeout: 15 }));
      assert.ok(error instanceof LockTimeoutError);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      assert.equal(cond.notify(), false, 'the waiter left the wait set');
      guard.release();
      assert.equal(mutex.isLocked, false);
    });

    it('an aborted wait rejects with signal.reason only after re-acquiring the mutex', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const controller = new AbortController();
      const waited = track(cond.wait(guard, { signal: controller.signal }));
      const other = inOtherFlow(() => mutex.tryLock());
      assert.ok(other);
      await settle();
      const reason = new Error('stop waiting');
      controller.abort(reason);
      await settle();
      await settle();
      assert.equal(waited.settled, false, 'the aborted wait is still re-acquiring the mutex');
      assert.equal(cond.waiting, 0);
      other.release();
      assert.equal(await rejectionOf(waited.promise), reason);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      assert.equal(inOtherFlow(() => mutex.tryLock()), null);
      guard.release();
      assert.equal(mutex.isLocked, false);
    });

    it('a wait with an already aborted signal rejects without giving the mutex up', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const reason = new Error('already');
      assert.equal(await rejectionOf(cond.wait(guard, { signal: AbortSignal.abort(reason) })), reason);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      assert.equal(cond.waiting, 0);
      guard.release();
    });

    it('an abort after a notify does not undo the notify', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const controller = new AbortController();
      const waited = cond.wait(guard, { signal: controller.signal, timeout: 1_000 });
      await settle();
      assert.equal(cond.notify(), true);
      controller.abort(new Error('too late'));
      await waited;
      assert.equal(guard.held, true);
      guard.release();
    });

    it('waitFor with a timeout bounds the whole call, across wake-ups', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      let checks = 0;
      const ticker = setInterval(() => cond.notifyAll(), 5);
      try {
        const started = performance.now();
        const error = await rejectionOf(
          cond.waitFor(
            guard,
            () => {
              checks++;
              return false;
            },
            { timeout: 50 },
          ),
        );
        const elapsed = performance.now() - started;
        assert.ok(error instanceof LockTimeoutError);
        assert.ok(elapsed >= 45, `rejected after ${elapsed} ms`);
        assert.ok(elapsed < 1_000, `rejected after ${elapsed} ms`);
        assert.ok(checks > 1, 'the predicate was checked on each wake-up');
      } finally {
        clearInterval(ticker);
      }
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      guard.release();
    });

    it('a waitFor timeout reports the timeout the caller gave', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      const error = await rejectionOf(cond.waitFor(guard, () => false, { timeout: 30 }));
      assert.ok(error instanceof LockTimeoutError);
      assert.equal(error.timeout, 30);
      assert.match(error.message, /timed out after 30 ms/);
      guard.release();
    });

    it('wait needs a held guard of the condition\'s own mutex', async () => {
      const mutex = new Mutex({ name: 'cond-own' });
      const other = new Mutex();
      const cond = new Condition(mutex);

      const otherGuard = await other.lock();
      await assert.rejects(cond.wait(otherGuard), { name: 'TypeError', message: /own mutex \(Mutex "cond-own"\)/ });
      assert.equal(otherGuard.held, true);
      assert.equal(other.isLocked, true);
      otherGuard.release();

      const released = await mutex.lock();
      released.release();
      await assert.rejects(cond.wait(released), TypeError);
      await assert.rejects(cond.waitFor(released, () => false), TypeError);
      assert.equal(mutex.isLocked, false);

      const multi = await lockAll([mutex]);
      await assert.rejects(cond.wait(multi), TypeError);
      assert.equal(mutex.isLocked, true);
      multi.release();

      await assert.rejects(cond.wait({ held: true, release() {} } as unknown as Guard), TypeError);
      assert.equal(cond.waiting, 0);
    });

    it('rejects bad options', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      const guard = await mutex.lock();
      await assert.rejects(cond.wait(guard, { timeout: -1 }), { name: 'RangeError', message: /Condition\.wait\(\): timeout must be/ });
      await assert.rejects(cond.waitFor(guard, () => false, { timeout: Number.NaN }), { name: 'RangeError', message: /Condition\.waitFor\(\)/ });
      await assert.rejects(cond.wait(guard, { signal: 'no' as unknown as AbortSignal }), TypeError);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      assert.equal(cond.waiting, 0);
      guard.release();
    });

    it('a notify with nobody waiting is not remembered; waitFor still sees the change', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      let ready = false;
      await mutex.run(() => {
        ready = true;
        assert.equal(cond.notify(), false);
        assert.equal(cond.notifyAll(), 0);
      });
      const guard = await mutex.lock();
      assert.ok((await rejectionOf(cond.wait(guard, { timeout: 20 }))) instanceof LockTimeoutError, 'the earlier notify was lost');
      assert.equal(guard.held, true);
      await cond.waitFor(guard, () => ready, { timeout: 20 });
      assert.equal(guard.held, true);
      guard.release();
    });

    it('a guard can wait again after a wait returns', async () => {
      const mutex = new Mutex();
      const cond = new Condition(mutex);
      let rounds = 0;
      const waiter = inOtherFlow(async () => {
        const guard = await mutex.lock();
        for (let i = 0; i < 3; i++) {
          await cond.wait(guard, { timeout: 1_000 });
          rounds++;
        }
        guard.release();
      });
      for (let i = 0; i < 3; i++) {
        await settle();
        assert.equal(cond.waiting, 1);
        await mutex.run(() => cond.notify());
      }
      await waiter;
      assert.equal(rounds, 3);
      assert.equal(mutex.isLocked, false);
    });

    if (mode === 'checked') {
      it('waiting while holding another lock is a LockOrderError (condition-wait)', async () => {
        const outer = new Mutex({ name: 'cond-outer' });
        const mutex = new Mutex({ name: 'cond-inner' });
        const cond = new Condition(mutex);
        const outerGuard = await outer.lock();
        const guard = await mutex.lock();
        const error = await rejectionOf(cond.wait(guard, { timeout: 1_000 }));
        assert.ok(error instanceof LockOrderError);
        assert.equal(error.kind, 'condition-wait');
        assert.match(error.requested.lock, /cond-inner/);
        assert.match(error.held.lock, /cond-outer/);
        assert.equal(guard.held, true, 'the refused wait did not give the mutex up');
        assert.equal(mutex.isLocked, true);
        assert.equal(cond.waiting, 0);
        guard.release();
        outerGuard.release();
      });

      it('waiting after the other lock was released is fine', async () => {
        const outer = new Mutex();
        const mutex = new Mutex();
        const cond = new Condition(mutex);
        const outerGuard = await outer.lock();
        const guard = await mutex.lock();
        outerGuard.release();
        assert.ok((await rejectionOf(cond.wait(guard, { timeout: 10 }))) instanceof LockTimeoutError);
        assert.equal(guard.held, true);
        guard.release();
      });

      it('after a wait the flow holds the mutex: locking it again is a DeadlockError', async () => {
        const mutex = new Mutex();
        const cond = new Condition(mutex);
        const guard = await mutex.lock();
        const waited = cond.wait(guard);
        await settle();
        await mutex.run(() => cond.notify());
        await waited;
        assert.ok((await rejectionOf(mutex.lock())) instanceof DeadlockError);
        guard.release();
        const again = await mutex.lock();
        again.release();
      });

      it('after a wait that re-acquired behind another holder, the flow holds the mutex', async () => {
        const mutex = new Mutex();
        const cond = new Condition(mutex);
        const guard = await mutex.lock();
        const waited = cond.wait(guard);
        await settle();
        const notifier = contend(() => mutex.lock());
        await notifier.done;
        cond.notify();
        await settle();
        assert.equal(mutex.waiting, 1, 'the woken waiter queues for the mutex');
        notifier.release();
        await waited;
        assert.equal(guard.held, true);
        assert.ok((await rejectionOf(mutex.lock())) instanceof DeadlockError);
        guard.release();
        assert.equal(mutex.isLocked, false);
      });
    }
  });
}
