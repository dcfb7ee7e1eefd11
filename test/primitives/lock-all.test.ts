import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { DeadlockError, LockOrderError, LockTimeoutError, Mutex, RwLock, Semaphore, lockAll, runAll, type Lockable } from '../../src/index.js';
import { contend } from '../support/flows.js';
import { checkedMode, fastMode, inOtherFlow, rejectionOf, settle, sleep, uniqueName } from '../support/helpers.js';

for (const mode of ['fast', 'checked'] as const) {
  describe(`lockAll / runAll (${mode} mode)`, { timeout: 30_000 }, () => {
    beforeEach(() => (mode === 'fast' ? fastMode() : checkedMode()));

    it('takes every lock and returns one guard that releases them all, once', async () => {
      const a = new Mutex();
      const b = new Mutex();
      const c = new Mutex();
      const guard = await lockAll([a, b, c]);
      assert.equal(guard.held, true);
      assert.deepEqual(
        [a, b, c].map((m) => m.isLocked),
        [true, true, true],
      );
      guard.release();
      assert.equal(guard.held, false);
      assert.deepEqual(
        [a, b, c].map((m) => m.isLocked),
        [false, false, false],
      );
      // A second release must not free what someone else took since.
      const other = contend(() => b.lock());
      await other.done;
      guard.release();
      assert.equal(b.isLocked, true);
      assert.equal(inOtherFlow(() => b.tryLock()), null);
      other.release();
      assert.equal(b.isLocked, false);
    });

    it('a single lock works', async () => {
      const a = new Mutex();
      const guard = await lockAll([a]);
      assert.equal(a.isLocked, true);
      guard.release();
      assert.equal(a.isLocked, false);
    });

    it('accepts any iterable', async () => {
      const a = new Mutex();
      const b = new Mutex();
      const guard = await lockAll(new Set([a, b]));
      assert.equal(a.isLocked && b.isLocked, true);
      guard.release();
      assert.equal(a.isLocked || b.isLocked, false);
    });

    it('Symbol.dispose and Symbol.asyncDispose release every lock', async () => {
      const a = new Mutex();
      const rw = new RwLock();
      {
        using guard = await lockAll([a, rw.reader]);
        assert.equal(guard.held, true);
        assert.equal(a.isLocked, true);
        assert.equal(rw.readers, 1);
      }
      assert.equal(a.isLocked, false);
      assert.equal(rw.readers, 0);
      {
        await using guard = await lockAll([a, rw]);
        assert.equal(guard.held, true);
        assert.equal(rw.isWriteLocked, true);
      }
      assert.equal(a.isLocked, false);
      assert.equal(rw.isWriteLocked, false);
    });

    it('runAll holds every lock while fn runs, returns its result and releases on throw', async () => {
      const a = new Mutex();
      const sem = new Semaphore(3);
      const result = await runAll([a, sem.weighted(2)], async () => {
        assert.equal(a.isLocked, true);
        assert.equal(sem.available, 1);
        await settle();
        return 'done';
      });
      assert.equal(result, 'done');
      assert.equal(a.isLocked, false);
      assert.equal(sem.available, 3);
      const failure = new Error('boom');
      assert.equal(
        await rejectionOf(
          runAll([a, sem], () => {
            throw failure;
          }),
        ),
        failure,
      );
      assert.equal(a.isLocked, false);
      assert.equal(sem.available, 3);
    });

    it('rejects bad input with TypeError and takes nothing', async () => {
      const a = new Mutex({ name: uniqueName('all-dup') });
      const rw = new RwLock();
      const sem = new Semaphore(2);
      await assert.rejects(lockAll([]), { name: 'TypeError', message: /at least one lock/ });
      await assert.rejects(lockAll([a, a]), { name: 'TypeError', message: /Mutex "all-dup-\d+" appears twice/ });
      await assert.rejects(lockAll([rw.reader, rw.writer]), { name: 'TypeError', message: /appears twice/ });
      await assert.rejects(lockAll([rw, rw.reader]), { name: 'TypeError', message: /appears twice/ });
      await assert.rejects(lockAll([sem.weighted(1), sem]), { name: 'TypeError', message: /appears twice/ });
      await assert.rejects(lockAll([a, {} as Lockable]), { name: 'TypeError', message: /item 1 is not a deadbolt lock/ });
      await assert.rejects(lockAll([a, null as unknown as Lockable]), { name: 'TypeError', message: /item 1 is not a deadbolt lock/ });
      await assert.rejects(lockAll([{ lock: {}, mode: 'exclusive', weight: 1 } as unknown as Lockable]), { name: 'TypeError', message: /item 0 is not a deadbolt lock/ });
      await assert.rejects(lockAll(null as unknown as Lockable[]), { name: 'TypeError', message: /takes an array of locks/ });
      await assert.rejects(lockAll(a as unknown as Lockable[]), { name: 'TypeError', message: /takes an array of locks/ });
      let ran = false;
      await assert.rejects(
        runAll([], () => {
          ran = true;
        }),
        TypeError,
      );
      await assert.rejects(
        runAll([a, a], () => {
          ran = true;
        }),
        TypeError,
      );
      assert.equal(ran, false);
      assert.equal(a.isLocked, false);
      assert.equal(rw.readers + (rw.isWriteLocked ? 1 : 0), 0);
      assert.equal(sem.available, 2);
    });

    it('reports bad input as a rejection, not a synchronous throw', async () => {
      let pending: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        pending = lockAll([]);
      });
      await assert.rejects(pending as Promise<unknown>, TypeError);
    });

    it('rejects bad options and an already aborted signal, taking nothing', async () => {
      const a = new Mutex();
      const b = new Mutex();
      await assert.rejects(lockAll([a, b], { timeout: -1 }), { name: 'RangeError', message: /lockAll\(\): timeout must be/ });
      await assert.rejects(runAll([a, b], () => 1, { timeout: Number.NaN }), { name: 'RangeError', message: /runAll\(\): timeout must be/ });
      await assert.rejects(lockAll([a, b], { signal: {} as AbortSignal }), TypeError);
      const reason = new Error('already');
      assert.equal(await rejectionOf(lockAll([a, b], { signal: AbortSignal.abort(reason) })), reason);
      assert.equal(a.isLocked, false);
      assert.equal(b.isLocked, false);
    });

    it('takes locks in rank order, whatever the array order', async () => {
      const high = new Mutex({ name: uniqueName('all-rank-high'), rank: 20 });
      const low = new Mutex({ name: uniqueName('all-rank-low'), rank: 10 });
      const unranked = new Mutex();
      // Created first, but ranked higher: it must still be taken after `low`.
      const held = contend(() => low.lock());
      await held.done;
      const all = contend(() => lockAll([unranked, high, low]));
      await settle();
      assert.equal(all.granted, false);
      assert.equal(high.isLocked, false, 'nothing ranked above `low` is taken while waiting for it');
      assert.equal(unranked.isLocked, false, 'unranked locks come after ranked ones');
      held.release();
      await all.done;
      assert.equal(high.isLocked && low.isLocked && unranked.isLocked, true);
      all.release();
      assert.equal(high.isLocked || low.isLocked || unranked.isLocked, false);
    });

    it('takes unranked locks in instance (creation) order, whatever the array order', async () => {
      const first = new Mutex();
      const second = new Mutex();
      const third = new Mutex();
      const held = contend(() => second.lock());
      await held.done;
      const all = contend(() => lockAll([third, second, first]));
      await settle();
      assert.equal(all.granted, false);
      assert.equal(first.isLocked, true, 'the first-created lock was taken before waiting');
      assert.equal(third.isLocked, false, 'the last-created lock waits its turn');
      held.release();
      await all.done;
      assert.equal(third.isLocked, true);
      all.release();
      assert.equal(first.isLocked || second.isLocked || third.isLocked, false);
    });

    it('two callers with opposite array orders never deadlock, even on two locks of one class', { timeout: 20_000 }, async () => {
      const className = uniqueName('all-pair');
      const a = new Mutex({ name: className });
      const b = new Mutex({ name: className });
      const rw = new RwLock();
      const sem = new Semaphore(2);
      let inside = 0;
      let overlaps = 0;
      let completed = 0;
      const critical = async (): Promise<void> => {
        inside++;
        if (inside > 1) overlaps++;
        await settle();
        inside--;
        completed++;
      };
      const rounds = 40;
      for (let round = 0; round < rounds; round++) {
        await Promise.all([
          inOtherFlow(() => runAll([a, b, rw, sem.weighted(2)], critical, { timeout: 2_000 })),
          inOtherFlow(() => runAll([sem.weighted(2), rw, b, a], critical, { timeout: 2_000 })),
          inOtherFlow(async () => {
            const guard = await lockAll([b, a], { timeout: 2_000 });
            await critical();
            guard.release();
          }),
          inOtherFlow(async () => {
            const guard = await lockAll([rw.writer, a], { timeout: 2_000 });
            await critical();
            guard.release();
          }),
        ]);
      }
      assert.equal(completed, rounds * 4);
      assert.equal(overlaps, 0, 'every pair of callers shares a lock, so none overlapped');
      assert.equal(a.isLocked || b.isLocked || rw.isWriteLocked, false);
      assert.equal(sem.available, 2);
    });

    it('releases the locks already taken when a later one times out', async () => {
      const a = new Mutex();
      const b = new Mutex();
      const c = new Mutex({ name: uniqueName('all-timeout') });
      const held = contend(() => c.lock());
      await held.done;
      const started = performance.now();
      const all = contend(() => lockAll([c, b, a], { timeout: 30 }));
      await settle();
      assert.equal(a.isLocked && b.isLocked, true, 'the earlier locks are held while waiting for the last');
      const error = await rejectionOf(all.done);
      assert.ok(error instanceof LockTimeoutError);
      assert.match(error.message, /all-timeout/);
      assert.ok(performance.now() - started >= 25);
      assert.equal(a.isLocked, false);
      assert.equal(b.isLocked, false);
      assert.equal(c.waiting, 0);
      assert.equal(held.guard?.held, true);
      held.release();
      // Nothing is left behind: the locks can be taken together again.
      const again = await lockAll([a, b, c], { timeout: 100 });
      again.release();
      assert.equal(a.isLocked || b.isLocked || c.isLocked, false);
    });

    it('timeout 0 succeeds when every lock is free and otherwise fails, releasing what it took', async () => {
      const a = new Mutex();
      const b = new Mutex();
      const guard = await lockAll([a, b], { timeout: 0 });
      assert.equal(a.isLocked && b.isLocked, true);
      guard.release();
      const held = contend(() => b.lock());
      await held.done;
      assert.ok((await rejectionOf(inOtherFlow(() => lockAll([a, b], { timeout: 0 })))) instanceof LockTimeoutError);
      assert.equal(a.isLocked, false);
      assert.equal(b.waiting, 0);
      held.release();
    });

    it('once granted, neither the timeout nor the signal can take the locks back', async () => {
      const a = new Mutex();
      const b = new Mutex();
      const held = contend(() => b.lock());
      await held.done;
      const controller = new AbortController();
      const all = contend(() => lockAll([a, b], { timeout: 40, signal: controller.signal }));
      await settle();
      held.release();
      const guard = await all.done;
      controller.abort(new Error('late'));
      await sleep(60);
      assert.equal(guard.held, true);
      assert.equal(a.isLocked && b.isLocked, true);
      guard.release();
      assert.equal(a.isLocked || b.isLocked, false);
    });

    it('the timeout bounds the whole call, not each lock', async () => {
      const a = new Mutex();
      const b = new Mutex();
      const heldA = contend(() => a.lock());
      const heldB = contend(() => b.lock());
      await Promise.all([heldA.done, heldB.done]);
      const started = performance.now();
      const all = contend(() => lockAll([a, b], { timeout: 150 }));
      await sleep(100);
      heldA.release();
      const error = await rejectionOf(all.done);
      const elapsed = performance.now() - started;
      assert.ok(error instanceof LockTimeoutError);
      assert.ok(elapsed >= 140, `rejected after ${elapsed} ms`);
      assert.ok(elapsed < 225, `rejected after ${elapsed} ms: the timeout restarted for the second lock`);
      assert.equal(a.isLocked, false);
      heldB.release();
    });

    it('releases the locks already taken when aborted mid-way', async () => {
      const a = new Mutex();
      const rw = new RwLock();
      const sem = new Semaphore(3);
      const last = new Mutex();
      const held = contend(() => last.lock());
      await held.done;
      const controller = new AbortController();
      const all = contend(() => lockAll([a, rw.reader, sem.weighted(2), last], { signal: controller.signal }));
      await settle();
      assert.equal(a.isLocked, true);
      assert.equal(rw.readers, 1);
      assert.equal(sem.available, 1);
      assert.equal(last.waiting, 1);
      const reason = new Error('abort mid-way');
      controller.abort(reason);
      assert.equal(await rejectionOf(all.done), reason);
      assert.equal(a.isLocked, false);
      assert.equal(rw.readers, 0);
      assert.equal(sem.available, 3);
      assert.equal(last.waiting, 0);
      assert.equal(last.isLocked, true);
      held.release();
      assert.equal(last.isLocked, false);
    });

    it('an abort while waiting for the first lock takes nothing', async () => {
      const a = new Mutex();
      const b = new Mutex();
      const held = contend(() => a.lock());
      await held.done;
      const controller = new AbortController();
      const all = contend(() => lockAll([a, b], { signal: controller.signal }));
      await settle();
      assert.equal(b.isLocked, false);
      controller.abort(new Error('x'));
      await rejectionOf(all.done);
      assert.equal(a.waiting, 0);
      assert.equal(b.isLocked, false);
      held.release();
      assert.equal(a.isLocked, false);
    });

    it('mixes mutexes, readers, writers, weighted semaphores and plain RwLocks', async () => {
      const m = new Mutex();
      const shared = new RwLock();
      const exclusive = new RwLock();
      const plain = new RwLock();
      const sem = new Semaphore(3);
      const single = new Semaphore(2);
      const guard = await lockAll([sem.weighted(2), plain, shared.reader, m, exclusive.writer, single]);
      assert.equal(m.isLocked, true);
      assert.equal(shared.readers, 1);
      assert.equal(shared.isWriteLocked, false);
      assert.equal(exclusive.isWriteLocked, true);
      assert.equal(plain.isWriteLocked, true, 'a plain RwLock is taken for writing');
      assert.equal(sem.available, 1);
      assert.equal(single.available, 1, 'a plain Semaphore is one permit');

      // What the others can still get: a read of `shared` and the last permit, nothing else.
      const reader = inOtherFlow(() => shared.tryRead());
      assert.ok(reader);
      reader.release();
      const permit = inOtherFlow(() => sem.tryAcquire(1));
      assert.ok(permit);
      permit.release();
      assert.equal(inOtherFlow(() => sem.tryAcquire(2)), null);
      assert.equal(inOtherFlow(() => plain.tryRead()), null);
      assert.equal(inOtherFlow(() => exclusive.tryRead()), null);
      assert.equal(inOtherFlow(() => shared.tryWrite()), null);

      guard.release();
      assert.equal(m.isLocked, false);
      assert.equal(shared.readers, 0);
      assert.equal(exclusive.isWriteLocked, false);
      assert.equal(plain.isWriteLocked, false);
      assert.equal(sem.available, 3);
      assert.equal(single.available, 2);
    });

    it('readers taken with lockAll share with other readers, writers wait', async () => {
      const rw = new RwLock();
      const m = new Mutex();
      const first = contend(() => lockAll([rw.reader, m]));
      await first.done;
      const second = contend(() => rw.read());
      await second.done;
      assert.equal(rw.readers, 2);
      const writer = contend(() => lockAll([rw.writer]));
      await settle();
      assert.equal(writer.granted, false);
      first.release();
      second.release();
      await writer.done;
      assert.equal(rw.isWriteLocked, true);
      writer.release();
    });

    it('a single-permit semaphore works in lockAll alongside plain acquires', async () => {
      const sem = new Semaphore(1);
      const m = new Mutex();
      const permit = contend(() => sem.acquire());
      await permit.done;
      const all = contend(() => lockAll([sem, m]));
      await settle();
      assert.equal(all.granted, false);
      permit.release();
      await all.done;
      assert.equal(sem.available, 0);
      const next = contend(() => sem.acquire());
      await settle();
      assert.equal(next.granted, false);
      all.release();
      await next.done;
      next.release();
      assert.equal(sem.available, 1);
    });

    if (mode === 'checked') {
      it('nesting two locks of one class outside lockAll is refused; lockAll allows it', async () => {
        const className = uniqueName('all-same-class');
        const a = new Mutex({ name: className });
        const b = new Mutex({ name: className });
        const guardA = await a.lock();
        const error = await rejectionOf(b.lock());
        assert.ok(error instanceof LockOrderError);
        assert.equal(error.kind, 'same-class');
        guardA.release();
        const both = await lockAll([b, a]);
        assert.equal(a.isLocked && b.isLocked, true);
        both.release();
      });

      it('the flow that awaits lockAll holds every lock', async () => {
        const a = new Mutex();
        const b = new Mutex();
        const guard = await lockAll([a, b]);
        assert.ok((await rejectionOf(a.lock())) instanceof DeadlockError);
        assert.ok((await rejectionOf(b.lock())) instanceof DeadlockError);
        guard.release();
        const again = await b.lock();
        again.release();
      });

      it('lockAll of a lock the flow already holds is refused before anything is taken', async () => {
        const a = new Mutex();
        const b = new Mutex();
        const held = await a.lock();
        const error = await rejectionOf(lockAll([b, a]));
        assert.ok(error instanceof LockOrderError || error instanceof DeadlockError, `got ${String(error)}`);
        assert.equal(b.isLocked, false);
        assert.equal(b.waiting, 0);
        held.release();
        assert.equal(a.isLocked, false);
        const both = await lockAll([a, b]);
        both.release();
      });

      it('a deadlock found mid-way rejects with DeadlockError and releases what was taken', async () => {
        const a = new Mutex();
        const b = new Mutex();
        const first = contend(() => a.lock());
        await first.done;
        const all = contend(() => lockAll([b, a], { timeout: 5_000 }));
        await settle();
        // Another flow takes b, then queues for a behind lockAll.
        const crossing = inOtherFlow(async () => {
          const guardB = await b.lock();
          const guardA = await a.lock({ timeout: 5_000 });
          guardA.release();
          guardB.release();
        });
        await settle();
        assert.equal(a.waiting, 2);
        // lockAll gets a, then would wait for b, held by a flow that waits for a: a cycle.
        first.release();
        const error = await rejectionOf(all.done);
        assert.ok(error instanceof DeadlockError, `got ${String(error)}`);
        await crossing;
        assert.equal(a.isLocked, false);
        assert.equal(b.isLocked, false);
        assert.equal(a.waiting + b.waiting, 0);
      });

      it('lockAll against a rank the flow holds is a LockOrderError (rank), taking nothing', async () => {
        const outer = new Mutex({ name: uniqueName('all-outer'), rank: 50 });
        const low = new Mutex({ name: uniqueName('all-low'), rank: 10 });
        const other = new Mutex();
        const held = await outer.lock();
        const error = await rejectionOf(lockAll([other, low]));
        assert.ok(error instanceof LockOrderError);
        assert.equal(error.kind, 'rank');
        assert.equal(other.isLocked, false);
        assert.equal(low.isLocked, false);
        held.release();
      });
    }
  });
}
