import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { Condition, configure, DeadlockError, lockAll, lockGraph, LockOrderError, Mutex, RwLock, Semaphore, type Guard } from '../../src/index.js';
import { checkedMode, inOtherFlow, rejectionOf, settle, sleep, uniqueName } from '../support/helpers.js';

/** Every deadlock must be reported this fast, never as a hang. */
const REPORT_WITHIN_MS = 50;

/** Awaits `promise`, which must reject with `type` within REPORT_WITHIN_MS; returns the error. */
async function rejectsFast<T extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const started = performance.now();
  const error = await rejectionOf(promise);
  const elapsed = performance.now() - started;
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  assert.ok(elapsed < REPORT_WITHIN_MS, `reported after ${elapsed.toFixed(1)} ms`);
  return error;
}

describe('deadlock scenario matrix (checked mode)', () => {
  beforeEach(checkedMode);

  describe('self-deadlock', () => {
    it('guard style: locking a mutex the flow holds rejects with DeadlockError', async () => {
      const mutex = new Mutex({ name: uniqueName('self') });
      const guard = await mutex.lock();
      const error = await rejectsFast(mutex.lock(), DeadlockError);
      assert.equal(error.code, 'ERR_DEADLOCK');
      assert.equal(error.cycle.length, 1);
      assert.equal(error.cycle[0]?.holder.lock, mutex.label);
      assert.match(error.report, /which the requesting flow itself holds/);
      assert.equal(guard.held, true, 'the victim keeps what it held');
      guard.release();
      assert.equal(mutex.isLocked, false);
    });

    it('await using style', async () => {
      const mutex = new Mutex({ name: uniqueName('self-using') });
      const attempt = async (): Promise<void> => {
        await using _outer = await mutex.lock();
        await using _inner = await mutex.lock();
      };
      await rejectsFast(attempt(), DeadlockError);
      assert.equal(mutex.isLocked, false, 'the outer guard was disposed');
    });

    it('scoped style: run inside run', async () => {
      const mutex = new Mutex({ name: uniqueName('self-run') });
      await rejectsFast(mutex.run(() => mutex.run(() => 'never')), DeadlockError);
      assert.equal(mutex.isLocked, false);
    });

    it('through a helper called while holding (the common re-entrancy bug)', async () => {
      const mutex = new Mutex({ name: uniqueName('self-helper') });
      const helper = async (): Promise<void> => {
        await sleep(1);
        await mutex.run(() => undefined);
      };
      await rejectsFast(mutex.run(helper), DeadlockError);
    });

    it('upgrading a read hold to a write hold', async () => {
      const rw = new RwLock({ name: uniqueName('upgrade') });
      const read = await rw.read();
      await rejectsFast(rw.write(), DeadlockError);
      read.release();
    });
  });

  it('AB/BA: one flow is rejected, the other completes once it releases', async () => {
    const a = new Mutex({ name: uniqueName('A') });
    const b = new Mutex({ name: uniqueName('B') });
    let closingRequestAt = 0;
    const flow = async (first: Mutex, second: Mutex, delay: number): Promise<string> => {
      const held = await first.lock();
      try {
        await sleep(delay);
        closingRequestAt = performance.now();
        (await second.lock()).release();
        return 'done';
      } finally {
        held.release();
      }
    };
    const results = await Promise.allSettled([flow(a, b, 5), flow(b, a, 15)]);
    const reportedAfter = performance.now() - closingRequestAt;
    assert.equal(results[0]?.status, 'fulfilled');
    assert.equal(results[1]?.status, 'rejected');
    const error = (results[1] as PromiseRejectedResult).reason as DeadlockError;
    assert.ok(error instanceof DeadlockError);
    assert.ok(reportedAfter < REPORT_WITHIN_MS + 20, `took ${reportedAfter} ms`);
    assert.equal(error.cycle.length, 2);
    assert.deepEqual(
      error.cycle.map((step) => step.holder.lock),
      [a.label, b.label],
    );
    assert.match(error.report, /whose flow is blocked in request #\d+ for Mutex "B-/);
    assert.equal(a.isLocked || b.isLocked, false);
  });

  it('AB/BA is still rejected when learned-order checks only warn', async () => {
    configure({ onPotentialDeadlock: 'warn' });
    const a = new Mutex({ name: uniqueName('wA') });
    const b = new Mutex({ name: uniqueName('wB') });
    const ga = await a.lock();
    const other = inOtherFlow(async () => {
      const gb = await b.lock();
      try {
        await sleep(10);
        (await a.lock()).release();
      } finally {
        gb.release();
      }
    });
    await sleep(2);
    const mine = b.lock();
    const [mineResult, otherResult] = await Promise.allSettled([mine, other]);
    // Whichever closes the cycle is the victim; here the other flow requests last.
    assert.equal(mineResult.status, 'fulfilled');
    assert.equal(otherResult.status, 'rejected');
    assert.ok((otherResult as PromiseRejectedResult).reason instanceof DeadlockError);
    ((mineResult as PromiseFulfilledResult<Guard>).value).release();
    ga.release();
  });

  it('a 3-cycle A -> B -> C -> A', async () => {
    configure({ onPotentialDeadlock: 'warn' });
    const [a, b, c] = ['A3', 'B3', 'C3'].map((name) => new Mutex({ name: uniqueName(name) })) as [Mutex, Mutex, Mutex];
    const flow = async (first: Mutex, second: Mutex, delay: number): Promise<void> => {
      const held = await first.lock();
      try {
        await sleep(delay);
        (await second.lock()).release();
      } finally {
        held.release();
      }
    };
    const results = await Promise.allSettled([flow(a, b, 5), flow(b, c, 10), flow(c, a, 20)]);
    const rejected = results.filter((result) => result.status === 'rejected');
    assert.equal(rejected.length, 1);
    const error = (rejected[0] as PromiseRejectedResult).reason as DeadlockError;
    assert.ok(error instanceof DeadlockError);
    assert.equal(error.cycle.length, 3);
    assert.equal(results[2]?.status, 'rejected', 'the flow that closed the cycle is the victim');
  });

  describe('RwLock', () => {
    it('read/write cycle between two locks', async () => {
      const r1 = new RwLock({ name: uniqueName('rw1') });
      const r2 = new RwLock({ name: uniqueName('rw2') });
      configure({ onPotentialDeadlock: 'warn' });
      const flow = async (readFirst: RwLock, writeSecond: RwLock, delay: number): Promise<void> => {
        const read = await readFirst.read();
        try {
          await sleep(delay);
          (await writeSecond.write()).release();
        } finally {
          read.release();
        }
      };
      const results = await Promise.allSettled([flow(r1, r2, 5), flow(r2, r1, 15)]);
      assert.equal(results[0]?.status, 'fulfilled');
      assert.ok((results[1] as PromiseRejectedResult).reason instanceof DeadlockError);
    });

    it('two readers that both upgrade: the second is rejected', async () => {
      const rw = new RwLock({ name: uniqueName('double-upgrade') });
      const flow = async (delay: number): Promise<void> => {
        const read = await rw.read();
        try {
          await sleep(delay);
          // Not an upgrade API: a write request while holding a read deadlocks against itself
          // and against the other reader.
          (await rw.write({ timeout: 1_000 })).release();
        } finally {
          read.release();
        }
      };
      const results = await Promise.allSettled([inOtherFlow(() => flow(5)), inOtherFlow(() => flow(15))]);
      for (const result of results) assert.ok((result as PromiseRejectedResult).reason instanceof DeadlockError);
    });

    it('a recursive read with a writer queued between is a deadlock through the queue', async () => {
      const rw = new RwLock({ name: uniqueName('recursive-read') });
      const read = await rw.read();
      const writer = inOtherFlow(() => rw.write());
      await settle();
      const error = await rejectsFast(rw.read(), DeadlockError);
      assert.equal(error.cycle[0]?.via, 'queue');
      read.release();
      (await writer).release();
    });

    it('a recursive read with no writer queued is a potential deadlock (LockOrderError)', async () => {
      const rw = new RwLock({ name: uniqueName('recursive-read-free') });
      const read = await rw.read();
      const error = await rejectsFast(rw.read(), LockOrderError);
      assert.equal(error.kind, 'recursive');
      read.release();
    });
  });

  describe('Semaphore', () => {
    it('a cycle through permits: every holder that could free permits is blocked', async () => {
      const pool = new Semaphore(2, { name: uniqueName('pool') });
      const gate = new Mutex({ name: uniqueName('gate') });
      configure({ onPotentialDeadlock: 'warn' });
      const g = await gate.lock();
      // Two other flows take one permit each, then wait for the gate.
      const holders = [5, 10].map((delay) =>
        inOtherFlow(async () => {
          const permit = await pool.acquire(1);
          try {
            await sleep(delay);
            (await gate.lock({ timeout: 2_000 })).release();
          } finally {
            permit.release();
          }
        }),
      );
      await sleep(20);
      // We hold the gate and ask for a permit: both permit holders wait for us.
      const error = await rejectsFast(pool.acquire(1), DeadlockError);
      assert.ok(error.cycle.length >= 2);
      g.release();
      await Promise.all(holders);
    });

    it('no deadlock while one permit holder is still running', async () => {
      const pool = new Semaphore(2, { name: uniqueName('pool-ok') });
      const gate = new Mutex({ name: uniqueName('gate-ok') });
      configure({ onPotentialDeadlock: 'warn' });
      const g = await gate.lock();
      const blocked = inOtherFlow(async () => {
        const permit = await pool.acquire(1);
        try {
          await sleep(5);
          (await gate.lock({ timeout: 2_000 })).release();
        } finally {
          permit.release();
        }
      });
      const running = inOtherFlow(async () => {
        const permit = await pool.acquire(1);
        await sleep(40);
        permit.release();
      });
      await sleep(15);
      const permit = await pool.acquire(1, { timeout: 2_000 });
      permit.release();
      g.release();
      await Promise.all([blocked, running]);
    });
  });

  it('waiting on a condition while holding another lock is refused before it can hang', async () => {
    const outer = new Mutex({ name: uniqueName('outer') });
    const mutex = new Mutex({ name: uniqueName('cond-mutex') });
    const ready = new Condition(mutex);
    const held = await outer.lock();
    const guard = await mutex.lock();
    const error = await rejectsFast(ready.wait(guard), LockOrderError);
    assert.equal(error.kind, 'condition-wait');
    assert.equal(guard.held, true, 'the refused wait did not give the mutex up');
    guard.release();
    held.release();
  });

  it('lockAll in both orders never deadlocks (including two locks of one class)', async () => {
    const name = uniqueName('buffer');
    const a = new Mutex({ name, rank: 30 });
    const b = new Mutex({ name, rank: 30 });
    const c = new Mutex({ name: uniqueName('other') });
    let inside = 0;
    const work = async (locks: Mutex[]): Promise<void> => {
      const guard = await lockAll(locks, { timeout: 2_000 });
      inside += 1;
      assert.equal(inside, 1);
      await sleep(0);
      inside -= 1;
      guard.release();
    };
    const orders = [[a, b, c], [c, b, a], [b, a, c], [c, a, b]];
    await Promise.all(Array.from({ length: 40 }, (_, i) => work(orders[i % orders.length] as Mutex[])));
  });

  it('nesting two locks of one class outside lockAll is a LockOrderError', async () => {
    const name = uniqueName('item');
    const a = new Mutex({ name });
    const b = new Mutex({ name });
    const error = await rejectsFast(a.run(() => b.run(() => 'never')), LockOrderError);
    assert.equal(error.kind, 'same-class');
    assert.match(error.report, /lockAll/);
  });

  it('a try-lock is exempt from ordering and teaches no edge', async () => {
    const a = new Mutex({ name: uniqueName('tA'), rank: 10 });
    const b = new Mutex({ name: uniqueName('tB'), rank: 20 });
    await a.run(() => b.run(() => 'learn A -> B'));
    const gb = await b.lock();
    const ga = a.tryLock();
    assert.ok(ga, 'a try-lock against the rank order succeeds');
    ga.release();
    gb.release();
    const edges = lockGraph().edges.filter((edge) => edge.from === b.name && edge.to === a.name);
    assert.deepEqual(edges, []);
    // A try-lock of a lock the flow holds fails quietly instead of throwing.
    const again = await a.lock();
    assert.equal(a.tryLock(), null);
    again.release();
  });

  it('a held try-lock counts as held: locking it again in the flow is a deadlock', async () => {
    const mutex = new Mutex({ name: uniqueName('try-held') });
    const guard = mutex.tryLock();
    assert.ok(guard);
    await rejectsFast(mutex.lock(), DeadlockError);
    guard.release();
  });

  it('rank violations are refused before any waiting, even when the lock is free', async () => {
    const coffer = new Mutex({ name: uniqueName('coffer'), rank: 10 });
    const buffer = new Mutex({ name: uniqueName('buffer'), rank: 30 });
    const error = await rejectsFast(buffer.run(() => coffer.run(() => 'never')), LockOrderError);
    assert.equal(error.kind, 'rank');
    assert.equal(error.held.rank, 30);
    assert.equal(error.requested.rank, 10);
    assert.equal(coffer.isLocked, false);
  });

  it('the victim of a deadlock leaves no trace: the lock is usable afterwards', async () => {
    const a = new Mutex({ name: uniqueName('trace') });
    const guard = await a.lock();
    await rejectsFast(a.lock(), DeadlockError);
    assert.equal(a.waiting, 0);
    guard.release();
    (await a.lock()).release();
  });
});
