// FileLock within one process: the in-process FIFO in front of the OS lock, guards, input
// errors, and (checked mode) the discipline: ranks, the learned order, the wait-for graph.
// Cross-process behaviour is in file-lock-processes.test.ts and file-lock-deadlock.test.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { FileLock } from '../../src/fs/index.js';
import { DeadlockError, LockOrderError, LockTimeoutError, type Guard } from '../../src/index.js';
import { checkedMode, fastMode, inOtherFlow, rejectionOf, settle, sleep, uniqueName } from '../support/helpers.js';

// No test here should publish a wait, but never let one land in the shared default registry.
const registry = mkdtempSync(join(tmpdir(), 'deadbolt-fl-reg-'));
process.env.DEADBOLT_FS_REGISTRY = registry;

const base = mkdtempSync(join(tmpdir(), 'deadbolt-fl-'));
let unique = 0;
/** A lock file path of its own, in a fresh directory. */
function lockPath(name = 'x'): string {
  unique += 1;
  const dir = join(base, `t${unique}`);
  mkdirSync(dir);
  return join(dir, `${name}.lock`);
}

after(() => {
  rmSync(base, { recursive: true, force: true });
  rmSync(registry, { recursive: true, force: true });
});

const modes = ['exclusive', 'shared'] as const;

for (const checks of ['fast', 'checked'] as const) {
  describe(`FileLock in one process (${checks} mode)`, () => {
    beforeEach(() => (checks === 'fast' ? fastMode() : checkedMode()));

    it('creates the lock file, reports path, name and label, and never unlinks the file', async () => {
      const path = lockPath();
      const lock = new FileLock(path);
      assert.equal(existsSync(path), false, 'constructing does not touch the file system');
      assert.equal(lock.path, path);
      assert.equal(lock.name, path);
      assert.equal(lock.label, `FileLock "${path}"`);
      assert.equal(lock.heldMode, null);
      const guard = await lock.lock();
      assert.equal(guard.held, true);
      assert.equal(existsSync(path), true);
      guard.release();
      assert.equal(guard.held, false);
      assert.equal(existsSync(path), true, 'released, the lock file stays');

      const named = new FileLock(lockPath('named'), { name: uniqueName('registry'), rank: 7 });
      assert.match(named.label, /^FileLock "registry-\d+" \(.*named\.lock\)$/);
      assert.equal(named.rank, 7);
      const relative = new FileLock(`deadbolt-relative-${unique}.lock`);
      assert.equal(relative.path, resolve(`deadbolt-relative-${unique}.lock`));
      assert.equal(existsSync(relative.path), false);
    });

    for (const held of modes) {
      for (const requested of modes) {
        const compatible = held === 'shared' && requested === 'shared';
        it(`${held} held, ${requested} requested through a second instance on the path: ${compatible ? 'granted' : 'excluded'}`, async () => {
          const path = lockPath();
          const first = new FileLock(path);
          const second = new FileLock(path);
          assert.equal(second.path, first.path);
          const holder = await first.lock({ mode: held });
          assert.equal(first.heldMode, held);
          assert.equal(second.heldMode, held, 'both instances see the one OS lock');

          const tried = inOtherFlow(() => second.tryLock(requested));
          assert.equal(tried !== null, compatible, `tryLock(${requested})`);
          tried?.release();
          assert.equal(first.heldMode, held, 'releasing the probe keeps the first hold');

          const waited = inOtherFlow(() => second.lock({ mode: requested, timeout: 20 }));
          if (compatible) {
            const guard = await waited;
            assert.equal(second.heldMode, 'shared');
            guard.release();
          } else {
            const error = await rejectionOf(waited);
            assert.ok(error instanceof LockTimeoutError, `expected LockTimeoutError, got ${String(error)}`);
            assert.equal(error.code, 'ERR_LOCK_TIMEOUT');
            assert.equal(second.waiting, 0, 'the timed-out waiter left the queue');
          }
          assert.equal(first.heldMode, held);
          holder.release();
          assert.equal(first.heldMode, null);
          const after = inOtherFlow(() => second.tryLock('exclusive'));
          assert.ok(after, 'free again once the holder released');
          after.release();
        });
      }
    }

    it('shared holds coexist; the OS lock is let go with the last one', async () => {
      const lock = new FileLock(lockPath());
      const a = await inOtherFlow(() => lock.lock({ mode: 'shared' }));
      const b = await inOtherFlow(() => lock.lock({ mode: 'shared' }));
      const c = inOtherFlow(() => lock.tryLock('shared'));
      assert.ok(c);
      assert.equal(lock.heldMode, 'shared');
      a.release();
      c.release();
      assert.equal(lock.heldMode, 'shared', 'one shared hold is left');
      assert.equal(inOtherFlow(() => lock.tryLock('exclusive')), null);
      b.release();
      assert.equal(lock.heldMode, null);
    });

    it('FIFO: a queued exclusive request holds back later shared requests', async () => {
      const lock = new FileLock(lockPath());
      const order: string[] = [];
      const reader = await inOtherFlow(() => lock.lock({ mode: 'shared' }));
      const writer = inOtherFlow(() => lock.lock({ mode: 'exclusive' })).then((guard) => {
        order.push('writer');
        return guard;
      });
      await settle();
      const lateReader = inOtherFlow(() => lock.lock({ mode: 'shared' })).then((guard) => {
        order.push('late reader');
        return guard;
      });
      await settle();
      assert.equal(lock.waiting, 2);
      assert.deepEqual(order, [], 'the late reader does not join the shared hold past the writer');
      assert.equal(
        inOtherFlow(() => lock.tryLock('shared')),
        null,
        'a try-lock may not barge past the queue',
      );
      reader.release();
      const writerGuard = await writer;
      assert.equal(lock.heldMode, 'exclusive');
      await settle();
      assert.deepEqual(order, ['writer']);
      writerGuard.release();
      const lateGuard = await lateReader;
      assert.deepEqual(order, ['writer', 'late reader']);
      assert.equal(lock.heldMode, 'shared');
      lateGuard.release();
      assert.equal(lock.waiting, 0);
    });

    it('release is idempotent: a second release does not free a later holder', async () => {
      const lock = new FileLock(lockPath());
      const first = await lock.lock();
      first.release();
      first.release();
      const second = await lock.lock();
      first.release();
      assert.equal(second.held, true);
      assert.equal(lock.heldMode, 'exclusive');
      assert.equal(
        inOtherFlow(() => lock.tryLock()),
        null,
      );
      second.release();
      second.release();
      assert.equal(lock.heldMode, null);
    });

    it('await using and using release at the end of the block', async () => {
      const lock = new FileLock(lockPath());
      {
        await using guard = await lock.lock({ mode: 'shared' });
        assert.equal(guard.held, true);
        assert.equal(lock.heldMode, 'shared');
      }
      assert.equal(lock.heldMode, null);
      {
        using guard = await lock.lock();
        assert.equal(guard.held, true);
        assert.equal(lock.heldMode, 'exclusive');
      }
      assert.equal(lock.heldMode, null);
    });

    it('run returns the result, holds during fn, and releases on throw', async () => {
      const lock = new FileLock(lockPath());
      assert.equal(
        await lock.run(() => {
          assert.equal(lock.heldMode, 'exclusive');
          return 42;
        }),
        42,
      );
      assert.equal(await lock.run(async () => lock.heldMode, { mode: 'shared' }), 'shared');
      await assert.rejects(
        lock.run(async () => {
          await sleep(1);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(lock.heldMode, null);
      assert.equal(lock.waiting, 0);
      await assert.rejects(lock.run('nope' as never), TypeError);
    });

    it('timeout and abort in the in-process queue leave nothing queued', async () => {
      const lock = new FileLock(lockPath());
      const holder = await lock.lock();
      const started = performance.now();
      const timedOut = await rejectionOf(inOtherFlow(() => lock.lock({ timeout: 30 })));
      assert.ok(timedOut instanceof LockTimeoutError);
      assert.ok(performance.now() - started >= 25);
      const controller = new AbortController();
      const aborted = inOtherFlow(() => lock.lock({ signal: controller.signal }));
      await settle();
      assert.equal(lock.waiting, 1);
      const reason = new Error('stop');
      controller.abort(reason);
      assert.equal(await rejectionOf(aborted), reason);
      assert.equal(lock.waiting, 0);
      const already = await rejectionOf(inOtherFlow(() => lock.lock({ signal: AbortSignal.abort('gone') })));
      assert.equal(already, 'gone');
      const zero = await rejectionOf(inOtherFlow(() => lock.lock({ timeout: 0 })));
      assert.ok(zero instanceof LockTimeoutError);
      holder.release();
      (await lock.lock({ timeout: 0 })).release();
      assert.equal(lock.heldMode, null);
    });

    it('bad input: path, mode, timeout, signal and fn are refused with clear errors', async () => {
      assert.throws(() => new FileLock(''), { name: 'TypeError', message: /non-empty string/ });
      assert.throws(() => new FileLock(42 as never), TypeError);
      const lock = new FileLock(lockPath());
      await assert.rejects(lock.lock({ mode: 'write' as never }), { name: 'TypeError', message: /mode must be 'exclusive' or 'shared'/ });
      assert.throws(() => lock.tryLock('read' as never), { name: 'TypeError', message: /mode must be/ });
      for (const timeout of [-1, Number.NaN, '5', 2 ** 40]) {
        await assert.rejects(lock.lock({ timeout: timeout as never }), { name: 'RangeError', message: /timeout must be/ }, `timeout ${String(timeout)}`);
      }
      await assert.rejects(lock.lock({ signal: {} as never }), { name: 'TypeError', message: /signal must be an AbortSignal/ });
      await assert.rejects(lock.lock(null as never), TypeError);
      assert.equal(lock.heldMode, null, 'nothing was taken by a refused call');
      assert.equal(lock.waiting, 0);
      (await lock.lock({ timeout: Infinity })).release();
    });

    it('options clash: every FileLock on one path must agree on name and rank', async () => {
      const path = lockPath();
      const name = uniqueName('clash');
      const first = new FileLock(path, { name, rank: 5 });
      assert.throws(() => new FileLock(path, { name: uniqueName('other') }), { name: 'TypeError', message: /already a lock in this process/ });
      assert.throws(() => new FileLock(path, { rank: 6 }), { name: 'TypeError', message: new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*rank 5`) });
      // Leaving them out, or repeating them, is the same lock.
      const same = new FileLock(path);
      const again = new FileLock(path, { name, rank: 5 });
      assert.equal(same.name, name);
      assert.equal(again.rank, 5);
      const guard = await first.lock();
      assert.equal(same.heldMode, 'exclusive');
      guard.release();
    });

    it('a missing directory is an error that names the path, for lock and tryLock, and leaves nothing held', async () => {
      const dir = join(base, `missing-${++unique}`);
      const path = join(dir, 'sub', 'x.lock');
      const lock = new FileLock(path);
      const error = (await rejectionOf(lock.lock({ timeout: 100 }))) as NodeJS.ErrnoException;
      assert.ok(error instanceof Error);
      assert.ok(error.message.includes(path), error.message);
      assert.match(error.message, /directory does not exist/);
      assert.equal(error.code, 'ENOENT');
      assert.throws(() => lock.tryLock('shared'), (thrown: Error) => thrown.message.includes(path));
      assert.equal(lock.heldMode, null);
      assert.equal(lock.waiting, 0);
      // The failed attempts left no in-process hold behind: once the directory exists, it works.
      mkdirSync(join(dir, 'sub'), { recursive: true });
      const guard = await lock.lock({ timeout: 0 });
      assert.equal(lock.heldMode, 'exclusive');
      guard.release();
      assert.deepEqual(readdirSync(join(dir, 'sub')), ['x.lock']);
      // A directory where the lock file should be.
      const asDir = new FileLock(join(dir, 'sub'));
      await assert.rejects(asDir.lock(), (thrown: Error) => thrown.message.includes(join(dir, 'sub')) && /is a directory/.test(thrown.message));
    });
  });
}

describe('FileLock discipline (checked mode)', () => {
  beforeEach(checkedMode);

  it('two instances on one path are one lock: taking it again in the same flow is a self-deadlock', async () => {
    const path = lockPath();
    const first = new FileLock(path);
    const second = new FileLock(path);
    const guard = await first.lock();
    const started = performance.now();
    const error = await rejectionOf(second.lock({ timeout: 5_000 }));
    assert.ok(error instanceof DeadlockError, `expected DeadlockError, got ${String(error)}`);
    assert.ok(performance.now() - started < 50, 'reported at once, not after the timeout');
    assert.match(error.report, /which the requesting flow itself holds/);
    assert.equal(guard.held, true);
    guard.release();
    const shared = await first.lock({ mode: 'shared' });
    const recursive = await rejectionOf(second.lock({ mode: 'shared' }));
    assert.ok(recursive instanceof LockOrderError);
    assert.equal(recursive.kind, 'recursive');
    shared.release();
    assert.equal(first.heldMode, null);
  });

  it('ranks: holding rank 20 and requesting rank 10 is a LockOrderError (kind rank) before any waiting', async () => {
    const high = new FileLock(lockPath('high'), { name: uniqueName('fl-rank20'), rank: 20 });
    const low = new FileLock(lockPath('low'), { name: uniqueName('fl-rank10'), rank: 10 });
    const guard = await high.lock();
    const error = await rejectionOf(low.lock({ timeout: 5_000 }));
    assert.ok(error instanceof LockOrderError, `expected LockOrderError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_LOCK_ORDER');
    assert.equal(error.kind, 'rank');
    assert.equal(error.held.lock, high.label);
    assert.equal(error.requested.lock, low.label);
    assert.equal(low.heldMode, null, 'the refused request took nothing');
    assert.equal(existsSync(low.path), false, 'refused before the lock file was even opened');
    // A try-lock never waits, so it is exempt from ordering.
    const probe = low.tryLock();
    assert.ok(probe);
    probe.release();
    guard.release();
    // The right order is fine.
    await low.run(() => high.run(() => undefined));
  });

  it('the learned order: B after A is LockOrderError (kind order-cycle) once A after B was seen', async () => {
    const a = new FileLock(lockPath('a'), { name: uniqueName('fl-A') });
    const b = new FileLock(lockPath('b'), { name: uniqueName('fl-B') });
    await a.run(() => b.run(() => undefined));
    const guard = await b.lock();
    const error = await rejectionOf(a.lock({ timeout: 5_000 }));
    assert.ok(error instanceof LockOrderError, `expected LockOrderError, got ${String(error)}`);
    assert.equal(error.kind, 'order-cycle');
    assert.ok(error.cycle.length >= 1);
    assert.equal(a.heldMode, null);
    guard.release();
    assert.equal(b.heldMode, null);
  });

  it('AB/BA between two flows: the flow that closes the cycle gets DeadlockError, the other completes', async () => {
    const a = new FileLock(lockPath('a'), { name: uniqueName('fl-dA') });
    const b = new FileLock(lockPath('b'), { name: uniqueName('fl-dB') });
    let closingAt = 0;
    const flow = async (first: FileLock, second: FileLock, delay: number): Promise<string> => {
      const held: Guard = await first.lock();
      try {
        await sleep(delay);
        closingAt = performance.now();
        (await second.lock({ timeout: 5_000 })).release();
        return 'done';
      } finally {
        held.release();
      }
    };
    const results = await Promise.allSettled([flow(a, b, 5), flow(b, a, 25)]);
    const reportedAfter = performance.now() - closingAt;
    assert.equal(results[0]?.status, 'fulfilled');
    assert.equal(results[1]?.status, 'rejected');
    const error = (results[1] as PromiseRejectedResult).reason as unknown;
    assert.ok(error instanceof DeadlockError, `expected DeadlockError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_DEADLOCK');
    assert.ok(reportedAfter < 200, `reported ${reportedAfter.toFixed(1)} ms after the closing request`);
    assert.deepEqual(
      error.cycle.map((step) => step.holder.lock),
      [a.label, b.label],
    );
    assert.equal(a.heldMode, null);
    assert.equal(b.heldMode, null);
  });
});
