import assert from 'node:assert/strict';
import { describe, it, beforeEach } from 'node:test';
import { LockTimeoutError, Mutex } from '../../src/index.js';
import { checkedMode, fastMode, inOtherFlow, rejectionOf, settle, sleep } from '../support/helpers.js';

for (const mode of ['fast', 'checked'] as const) {
  describe(`Mutex (${mode} mode)`, () => {
    beforeEach(() => (mode === 'fast' ? fastMode() : checkedMode()));

    it('grants at once when free and reports isLocked', async () => {
      const mutex = new Mutex();
      assert.equal(mutex.isLocked, false);
      const guard = await mutex.lock();
      assert.equal(mutex.isLocked, true);
      assert.equal(guard.held, true);
      guard.release();
      assert.equal(mutex.isLocked, false);
      assert.equal(guard.held, false);
    });

    it('release is idempotent: a second release does not free a later holder', async () => {
      const mutex = new Mutex();
      const first = await mutex.lock();
      first.release();
      const second = await mutex.lock();
      first.release();
      assert.equal(mutex.isLocked, true);
      assert.equal(mutex.tryLock(), null);
      second.release();
    });

    it('hands the lock over in FIFO order', async () => {
      const mutex = new Mutex();
      const order: number[] = [];
      const holder = await mutex.lock();
      const waiters = [1, 2, 3, 4].map((id) =>
        inOtherFlow(() => mutex.lock()).then((guard) => {
          order.push(id);
          guard.release();
        }),
      );
      await settle();
      assert.equal(mutex.waiting, 4);
      holder.release();
      await Promise.all(waiters);
      assert.deepEqual(order, [1, 2, 3, 4]);
    });

    it('tryLock is synchronous and never queues', async () => {
      const mutex = new Mutex();
      const guard = mutex.tryLock();
      assert.ok(guard);
      assert.equal(mutex.tryLock(), null);
      assert.equal(mutex.waiting, 0);
      guard.release();
      const waiter = await mutex.lock();
      const queued = inOtherFlow(() => mutex.lock());
      waiter.release();
      // the queued waiter was handed the lock: a try-lock may not barge in
      assert.equal(mutex.tryLock(), null);
      (await queued).release();
    });

    it('run returns the result and releases on throw', async () => {
      const mutex = new Mutex();
      assert.equal(await mutex.run(async () => 42), 42);
      await assert.rejects(
        mutex.run(() => {
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(mutex.isLocked, false);
    });

    it('Symbol.dispose and Symbol.asyncDispose release', async () => {
      const mutex = new Mutex();
      {
        using guard = await mutex.lock();
        assert.equal(guard.held, true);
        assert.equal(mutex.isLocked, true);
      }
      assert.equal(mutex.isLocked, false);
      {
        await using guard = await mutex.lock();
        assert.equal(guard.held, true);
      }
      assert.equal(mutex.isLocked, false);
    });

    it('a timeout rejects with LockTimeoutError and removes the waiter', async () => {
      const mutex = new Mutex({ name: `timeout-${mode}` });
      const holder = await mutex.lock();
      const started = performance.now();
      const error = await rejectionOf(inOtherFlow(() => mutex.lock({ timeout: 30 })));
      assert.ok(error instanceof LockTimeoutError);
      assert.equal(error.code, 'ERR_LOCK_TIMEOUT');
      assert.ok(performance.now() - started >= 25);
      assert.match(error.report, /Waited 30 ms/);
      assert.equal(mutex.waiting, 0);
      holder.release();
      assert.equal(mutex.isLocked, false);
    });

    it('timeout 0 fails at once when the lock is taken, succeeds when free', async () => {
      const mutex = new Mutex();
      const guard = await mutex.lock({ timeout: 0 });
      assert.ok((await rejectionOf(inOtherFlow(() => mutex.lock({ timeout: 0 })))) instanceof LockTimeoutError);
      guard.release();
    });

    it('an abort rejects with signal.reason and removes the waiter', async () => {
      const mutex = new Mutex();
      const holder = await mutex.lock();
      const controller = new AbortController();
      const pending = inOtherFlow(() => mutex.lock({ signal: controller.signal }));
      await settle();
      assert.equal(mutex.waiting, 1);
      const reason = new Error('stop');
      controller.abort(reason);
      assert.equal(await rejectionOf(pending), reason);
      assert.equal(mutex.waiting, 0);
      holder.release();
    });

    it('an already aborted signal rejects without taking the lock', async () => {
      const mutex = new Mutex();
      const reason = new Error('already');
      assert.equal(await rejectionOf(mutex.lock({ signal: AbortSignal.abort(reason) })), reason);
      assert.equal(mutex.isLocked, false);
    });

    it('rejects bad options with errors that name them', async () => {
      const mutex = new Mutex({ name: 'opts' });
      await assert.rejects(mutex.lock({ timeout: -1 }), { name: 'RangeError', message: /Mutex "opts"\.lock\(\): timeout must be/ });
      await assert.rejects(mutex.lock({ timeout: Number.NaN }), RangeError);
      await assert.rejects(mutex.lock({ timeout: 2 ** 31 }), RangeError);
      await assert.rejects(mutex.lock({ signal: {} as AbortSignal }), { name: 'TypeError', message: /signal must be an AbortSignal/ });
      assert.throws(() => new Mutex({ name: '' }), /name must be a non-empty string/);
      assert.throws(() => new Mutex({ rank: Number.POSITIVE_INFINITY }), /rank must be a finite number/);
      assert.equal(mutex.isLocked, false);
    });

    it('a waiter whose timeout fires after it was granted keeps the lock', async () => {
      const mutex = new Mutex();
      const holder = await mutex.lock();
      const pending = inOtherFlow(() => mutex.lock({ timeout: 40 }));
      holder.release();
      const guard = await pending;
      await sleep(60);
      assert.equal(guard.held, true);
      assert.equal(mutex.isLocked, true);
      guard.release();
    });
  });
}
