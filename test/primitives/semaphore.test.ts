import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { DeadlockError, LockOrderError, LockTimeoutError, Mutex, Semaphore, configure, type Guard } from '../../src/index.js';
import { contend, deferred, track } from '../support/flows.js';
import { checkedMode, fastMode, inOtherFlow, rejectionOf, settle, uniqueName } from '../support/helpers.js';

for (const mode of ['fast', 'checked'] as const) {
  describe(`Semaphore (${mode} mode)`, { timeout: 20_000 }, () => {
    beforeEach(() => (mode === 'fast' ? fastMode() : checkedMode()));

    it('validates permits: a positive safe integer', () => {
      for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
        assert.throws(() => new Semaphore(bad), { name: 'RangeError', message: /Semaphore permits must be a positive integer/ }, `permits ${bad}`);
      }
      assert.throws(() => new Semaphore('2' as unknown as number), RangeError);
      assert.equal(new Semaphore(1).permits, 1);
      assert.equal(new Semaphore(7).permits, 7);
    });

    it('permits and available report the size and the free permits', async () => {
      const sem = new Semaphore(3);
      assert.equal(sem.permits, 3);
      assert.equal(sem.available, 3);
      const two = await sem.acquire(2);
      assert.equal(sem.available, 1);
      assert.equal(sem.permits, 3);
      assert.equal(two.held, true);
      two.release();
      assert.equal(sem.available, 3);
      two.release();
      assert.equal(sem.available, 3, 'a second release gives nothing back');
    });

    it('acquire() takes one permit by default and grants up to the size at once', async () => {
      const sem = new Semaphore(3);
      const first = await sem.acquire();
      assert.equal(sem.available, 2);
      const others = [contend(() => sem.acquire()), contend(() => sem.acquire())];
      await Promise.all(others.map((c) => c.done));
      assert.equal(sem.available, 0);
      const fourth = contend(() => sem.acquire());
      await settle();
      assert.equal(fourth.granted, false);
      assert.equal(sem.waiting, 1);
      first.release();
      await fourth.done;
      assert.equal(sem.available, 0);
      for (const c of [...others, fourth]) c.release();
      assert.equal(sem.available, 3);
    });

    it('acquire(weight) rejects a bad weight with a RangeError naming the semaphore', async () => {
      const sem = new Semaphore(3, { name: 'sem-weights' });
      for (const bad of [0, -1, 4, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        let pending: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          pending = sem.acquire(bad);
        }, 'acquire() reports a bad weight as a rejection, not a throw');
        await assert.rejects(
          pending as Promise<unknown>,
          { name: 'RangeError', message: /Semaphore "sem-weights"\.acquire\(\): weight must be an integer from 1 to 3/ },
          `weight ${bad}`,
        );
      }
      assert.equal(sem.available, 3);
      assert.equal(sem.waiting, 0);
    });

    it('tryAcquire, run and weighted validate the weight too', async () => {
      const sem = new Semaphore(2, { name: 'sem-weights-2' });
      assert.throws(() => sem.tryAcquire(0), { name: 'RangeError', message: /Semaphore "sem-weights-2"\.tryAcquire\(\)/ });
      assert.throws(() => sem.tryAcquire(3), RangeError);
      assert.throws(() => sem.weighted(0), { name: 'RangeError', message: /Semaphore "sem-weights-2"\.weighted\(\)/ });
      assert.throws(() => sem.weighted(2.5), RangeError);
      let ran = false;
      await assert.rejects(
        sem.run(
          () => {
            ran = true;
          },
          { weight: 3 },
        ),
        { name: 'RangeError', message: /Semaphore "sem-weights-2"\.run\(\)/ },
      );
      assert.equal(ran, false);
      assert.equal(sem.available, 2);
    });

    it('rejects bad options with errors that name the semaphore', async () => {
      const sem = new Semaphore(2, { name: 'sem-opts' });
      await assert.rejects(sem.acquire(1, { timeout: -5 }), { name: 'RangeError', message: /Semaphore "sem-opts"\.acquire\(\): timeout must be/ });
      await assert.rejects(sem.run(() => 1, { timeout: Number.NaN }), { name: 'RangeError', message: /Semaphore "sem-opts"\.run\(\)/ });
      const reason = new Error('already');
      assert.equal(await rejectionOf(sem.acquire(1, { signal: AbortSignal.abort(reason) })), reason);
      assert.equal(sem.available, 2);
    });

    it('a heavy waiter at the head is not overtaken by later light requests', async () => {
      const sem = new Semaphore(3);
      const order: string[] = [];
      const held = await sem.acquire(2);
      const heavy = contend(
        () => sem.acquire(3),
        () => order.push('heavy'),
      );
      await settle();
      const light = contend(
        () => sem.acquire(1),
        () => order.push('light'),
      );
      await settle();
      // One permit is free, enough for the light request, but the heavy one is ahead of it.
      assert.equal(sem.available, 1);
      assert.equal(light.granted, false);
      assert.equal(sem.waiting, 2);
      assert.equal(inOtherFlow(() => sem.tryAcquire(1)), null, 'tryAcquire cannot barge past the queue');
      held.release();
      await heavy.done;
      await settle();
      assert.equal(sem.available, 0);
      assert.equal(light.granted, false);
      heavy.release();
      await light.done;
      assert.deepEqual(order, ['heavy', 'light']);
      assert.equal(sem.available, 2);
      light.release();
      assert.equal(sem.available, 3);
    });

    it('a release grants from the head for as long as the head fits', async () => {
      const sem = new Semaphore(4);
      const all = await sem.acquire(4);
      const a = contend(() => sem.acquire(1));
      const b = contend(() => sem.acquire(2));
      const c = contend(() => sem.acquire(2));
      const d = contend(() => sem.acquire(1));
      await settle();
      all.release();
      await settle();
      // a (1) and b (2) fit; c (2) does not fit in the 1 left, and d (1) may not pass c.
      assert.deepEqual(
        [a, b, c, d].map((x) => x.granted),
        [true, true, false, false],
      );
      assert.equal(sem.available, 1);
      a.release();
      await settle();
      assert.deepEqual(
        [c, d].map((x) => x.granted),
        [true, false],
      );
      b.release();
      await d.done;
      c.release();
      d.release();
      assert.equal(sem.available, 4);
    });

    it('run holds { weight } permits, returns the result and releases on throw', async () => {
      const sem = new Semaphore(5);
      assert.equal(
        await sem.run(
          () => {
            assert.equal(sem.available, 2);
            return 'three';
          },
          { weight: 3 },
        ),
        'three',
      );
      assert.equal(sem.available, 5);
      assert.equal(
        await sem.run(async () => {
          assert.equal(sem.available, 4);
          await settle();
          return 1;
        }),
        1,
      );
      const failure = new Error('boom');
      assert.equal(
        await rejectionOf(
          sem.run(
            async () => {
              await settle();
              throw failure;
            },
            { weight: 5 },
          ),
        ),
        failure,
      );
      assert.equal(sem.available, 5);
    });

    it('run waits in FIFO order with its weight', async () => {
      const sem = new Semaphore(2);
      const held = await sem.acquire(1);
      const order: string[] = [];
      const heavy = inOtherFlow(() => sem.run(() => order.push('heavy'), { weight: 2 }));
      await settle();
      const light = inOtherFlow(() => sem.run(() => order.push('light')));
      await settle();
      assert.deepEqual(order, []);
      held.release();
      await Promise.all([heavy, light]);
      assert.deepEqual(order, ['heavy', 'light']);
      assert.equal(sem.available, 2);
    });

    it('tryAcquire takes permits only if they are free and nobody waits', async () => {
      const sem = new Semaphore(3);
      const two = inOtherFlow(() => sem.tryAcquire(2));
      assert.ok(two);
      assert.equal(sem.available, 1);
      assert.equal(inOtherFlow(() => sem.tryAcquire(2)), null);
      assert.equal(sem.waiting, 0, 'a failed tryAcquire does not queue');
      const one = inOtherFlow(() => sem.tryAcquire());
      assert.ok(one);
      assert.equal(sem.available, 0);
      assert.equal(inOtherFlow(() => sem.tryAcquire()), null);
      one.release();
      two.release();
      assert.equal(sem.available, 3);
    });

    it('weighted(n) is a spec of this semaphore', () => {
      const sem = new Semaphore(4);
      const spec = sem.weighted(3);
      assert.equal(spec.lock, sem);
      assert.equal(spec.mode, 'shared');
      assert.equal(spec.weight, 3);
      assert.equal(sem.weighted().weight, 1);
      assert.equal(sem.available, 4, 'making a spec takes nothing');
    });

    it('a timeout rejects with LockTimeoutError and removes the waiter', async () => {
      const sem = new Semaphore(2, { name: `sem-timeout-${mode}` });
      const held = await sem.acquire(2);
      const started = performance.now();
      const error = await rejectionOf(inOtherFlow(() => sem.acquire(1, { timeout: 30 })));
      assert.ok(error instanceof LockTimeoutError);
      assert.equal(error.timeout, 30);
      assert.match(error.message, /Semaphore "sem-timeout-/);
      assert.ok(performance.now() - started >= 25);
      assert.equal(sem.waiting, 0);
      assert.ok((await rejectionOf(inOtherFlow(() => sem.acquire(1, { timeout: 0 })))) instanceof LockTimeoutError);
      held.release();
      assert.equal(sem.available, 2);
    });

    it('a heavy head that times out lets the lighter waiters behind it in, if they fit', async () => {
      const sem = new Semaphore(3);
      const held = await sem.acquire(2);
      const heavy = contend(() => sem.acquire(3, { timeout: 30 }));
      await settle();
      const light1 = contend(() => sem.acquire(1));
      const light2 = contend(() => sem.acquire(1));
      await settle();
      assert.equal(light1.granted, false);
      assert.ok((await rejectionOf(heavy.done)) instanceof LockTimeoutError);
      await light1.done;
      await settle();
      assert.equal(held.held, true, 'nobody released: light1 came in because the heavy waiter left');
      assert.equal(light2.granted, false, 'only one permit was free');
      assert.equal(sem.available, 0);
      assert.equal(sem.waiting, 1);
      light1.release();
      await light2.done;
      light2.release();
      held.release();
      assert.equal(sem.available, 3);
    });

    it('an aborted heavy head lets the lighter waiters behind it in, without skipping the queue', async () => {
      const sem = new Semaphore(3);
      const held = await sem.acquire(2);
      const controller = new AbortController();
      const heavy = contend(() => sem.acquire(3, { signal: controller.signal }));
      const light = contend(() => sem.acquire(1));
      const medium = contend(() => sem.acquire(2));
      const tiny = contend(() => sem.acquire(1));
      await settle();
      assert.equal(sem.waiting, 4);
      const reason = new Error('abandon');
      controller.abort(reason);
      assert.equal(await rejectionOf(heavy.done), reason);
      await settle();
      // light fits in the free permit; medium (2) does not fit in 0 and tiny may not pass it.
      assert.deepEqual(
        [light, medium, tiny].map((x) => x.granted),
        [true, false, false],
      );
      assert.equal(sem.waiting, 2);
      held.release();
      await medium.done;
      await settle();
      assert.equal(tiny.granted, false);
      light.release();
      await tiny.done;
      medium.release();
      tiny.release();
      assert.equal(sem.available, 3);
    });

    it('an aborted middle waiter lets a fitting waiter behind it move up', async () => {
      const sem = new Semaphore(2);
      const held = await sem.acquire(2);
      const first = contend(() => sem.acquire(2));
      const controller = new AbortController();
      const middle = contend(() => sem.acquire(1, { signal: controller.signal }));
      const last = contend(() => sem.acquire(1));
      await settle();
      controller.abort(new Error('x'));
      await rejectionOf(middle.done);
      assert.equal(sem.waiting, 2);
      held.release();
      await first.done;
      await settle();
      assert.equal(last.granted, false);
      first.release();
      await last.done;
      last.release();
      assert.equal(sem.available, 2);
    });

    if (mode === 'checked') {
      it('a flow that takes permits twice is a recursive LockOrderError', async () => {
        const sem = new Semaphore(3);
        const one = await sem.acquire(1);
        const error = await rejectionOf(sem.acquire(1));
        assert.ok(error instanceof LockOrderError);
        assert.equal(error.kind, 'recursive');
        assert.equal(sem.available, 2);
        one.release();
      });

      it('a wait is a deadlock only when every holder that could free permits is blocked on this flow', async () => {
        // The learned-order check would flag these orders first; this test is about the wait-for graph.
        configure({ onPotentialDeadlock: 'warn' });
        const sem = new Semaphore(2, { name: uniqueName('sem-wfg') });
        const m = new Mutex({ name: uniqueName('sem-wfg-m') });
        const held = await m.lock();
        // Two flows hold a permit each and then wait for the mutex this flow holds.
        const blocked = [1, 2].map(() =>
          inOtherFlow(async () => {
            const permit = await sem.acquire();
            const guard = await m.lock({ timeout: 5_000 });
            guard.release();
            permit.release();
          }),
        );
        await settle();
        assert.equal(sem.available, 0);
        assert.equal(m.waiting, 2);
        const error = await rejectionOf(sem.acquire(1, { timeout: 5_000 }));
        assert.ok(error instanceof DeadlockError, `got ${String(error)}`);
        assert.equal(sem.waiting, 0);
        held.release();
        await Promise.all(blocked);
        assert.equal(sem.available, 2);
      });

      it('a wait is not a deadlock while some holder that could free a permit is running', async () => {
        configure({ onPotentialDeadlock: 'warn' });
        const sem = new Semaphore(2, { name: uniqueName('sem-wfg') });
        const m = new Mutex({ name: uniqueName('sem-wfg-m') });
        const held = await m.lock();
        const blocked = inOtherFlow(async () => {
          const permit = await sem.acquire();
          const guard = await m.lock({ timeout: 5_000 });
          guard.release();
          permit.release();
        });
        const running = contend(() => sem.acquire());
        await running.done;
        await settle();
        assert.equal(sem.available, 0);
        const waiting = track(sem.acquire(1, { timeout: 5_000 }));
        await settle();
        assert.equal(waiting.settled, false, 'the request waits: the running holder can let it in');
        assert.equal(sem.waiting, 1);
        running.release();
        const permit = (await waiting.promise) as Guard;
        assert.equal(sem.available, 0);
        permit.release();
        held.release();
        await blocked;
        assert.equal(sem.available, 2);
      });

      it('many flows share the permits without being taken for a deadlock', async () => {
        const sem = new Semaphore(2);
        const gate = deferred();
        let active = 0;
        let maxActive = 0;
        const runs = [1, 2, 3, 4, 5].map(() =>
          inOtherFlow(() =>
            sem.run(async () => {
              active++;
              maxActive = Math.max(maxActive, active);
              await gate.promise;
              active--;
            }),
          ),
        );
        await settle();
        assert.equal(maxActive, 2);
        assert.equal(sem.waiting, 3);
        gate.resolve();
        await Promise.all(runs);
        assert.equal(sem.available, 2);
      });
    }
  });
}
