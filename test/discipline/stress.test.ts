import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { configure, DeadlockError, lockAll, Mutex, RwLock, Semaphore, type Guard } from '../../src/index.js';
import { checkedMode, seededRandom, sleep, uniqueName } from '../support/helpers.js';

/** `npm run test:stress` sets DEADBOLT_STRESS=1 for the long runs. */
const HEAVY = process.env.DEADBOLT_STRESS === '1';
const FLOWS = HEAVY ? 1_000 : 150;
const OPS = HEAVY ? 200 : 20;


describe(`stress: ${FLOWS} flows x ${OPS} ops in checked mode${HEAVY ? ' (heavy)' : ''}`, () => {
  beforeEach(checkedMode);

  it('ranked and lockAll-based work: no order errors, no deadlocks, exclusion holds', async () => {
    const coffer = new Mutex({ name: uniqueName('coffer'), rank: 10 });
    const registry = new RwLock({ name: uniqueName('registry'), rank: 20 });
    const bufferClass = uniqueName('buffer');
    const buffers = Array.from({ length: 8 }, () => new Mutex({ name: bufferClass, rank: 30 }));
    const pool = new Semaphore(3, { name: uniqueName('pool'), rank: 40 });
    const inside = new Map<Mutex, number>(buffers.map((buffer) => [buffer, 0]));
    let inPool = 0;
    let writers = 0;
    let readers = 0;
    const seed = 0xdeadb01;
    const flow = async (id: number): Promise<number> => {
      const next = seededRandom(seed + id);
      let done = 0;
      for (let op = 0; op < OPS; op++) {
        const pick = buffers.filter(() => next() < 0.3).slice(0, 3);
        if (pick.length === 0) pick.push(buffers[Math.floor(next() * buffers.length)] as Mutex);
        const useCoffer = next() < 0.2;
        const write = next() < 0.25;
        const held: Guard[] = [];
        if (useCoffer) held.push(await coffer.lock());
        held.push(await (write ? registry.write() : registry.read()));
        if (write) writers++;
        else readers++;
        assert.ok(writers <= 1 && (writers === 0 || readers === 0), 'registry exclusion');
        held.push(await lockAll(pick));
        for (const buffer of pick) inside.set(buffer, (inside.get(buffer) as number) + 1);
        for (const buffer of pick) assert.equal(inside.get(buffer), 1, 'buffer exclusion');
        if (next() < 0.5) {
          const permit = await pool.acquire(next() < 0.5 ? 1 : 2);
          inPool++;
          await null;
          inPool--;
          permit.release();
        }
        await (next() < 0.1 ? sleep(0) : null);
        for (const buffer of pick) inside.set(buffer, (inside.get(buffer) as number) - 1);
        if (write) writers--;
        else readers--;
        for (let i = held.length - 1; i >= 0; i--) (held[i] as Guard).release();
        done++;
      }
      return done;
    };
    const results = await Promise.all(Array.from({ length: FLOWS }, (_, id) => flow(id)));
    assert.equal(
      results.reduce((sum, count) => sum + count, 0),
      FLOWS * OPS,
    );
    assert.equal(inPool, 0);
    assert.equal(pool.available, 3);
    for (const buffer of buffers) assert.equal(buffer.isLocked, false);
  });

  it('random lock orders: every deadlock is reported (none ends as a timeout), and every flow finishes', async () => {
    configure({ onPotentialDeadlock: 'warn' });
    const locks = Array.from({ length: 6 }, (_, i) => new Mutex({ name: uniqueName(`random-${i}`) }));
    const owners = new Map<Mutex, number>();
    let deadlocks = 0;
    const flow = async (id: number): Promise<void> => {
      const next = seededRandom(0xabcdef + id);
      for (let op = 0; op < OPS; op++) {
        for (;;) {
          const first = locks[Math.floor(next() * locks.length)] as Mutex;
          let second = locks[Math.floor(next() * locks.length)] as Mutex;
          if (second === first) second = locks[(locks.indexOf(first) + 1) % locks.length] as Mutex;
          const outer = await first.lock({ timeout: 10_000 });
          assert.equal(owners.get(first), undefined);
          owners.set(first, id);
          try {
            await (next() < 0.5 ? sleep(0) : null);
            const inner = await second.lock({ timeout: 10_000 });
            assert.equal(owners.get(second), undefined);
            owners.set(second, id);
            await null;
            owners.delete(second);
            inner.release();
            break;
          } catch (error) {
            // A timeout here would be a deadlock that was not detected: fail loudly.
            assert.ok(error instanceof DeadlockError, `flow ${id}: ${String(error)}`);
            deadlocks++;
          } finally {
            owners.delete(first);
            outer.release();
          }
          await sleep(next() * 2);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FLOWS, 60) }, (_, id) => flow(id)));
    assert.ok(deadlocks > 0, 'random opposite orders among concurrent flows do deadlock, and each was reported');
    for (const lock of locks) assert.equal(lock.isLocked, false);
  });
});
