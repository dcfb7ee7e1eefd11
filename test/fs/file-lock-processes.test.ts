// FileLock across real processes: the shared/exclusive matrix against a child's hold, timeouts
// and aborts while another process holds the lock, and a holder's SIGKILL. Children run
// fixtures/lock-worker.ts and are synchronised over IPC; lock files live in fresh temp dirs.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { FileLock } from '../../src/fs/index.js';
import { LockTimeoutError, type Guard } from '../../src/index.js';
import { checkedMode, fastMode, inOtherFlow, rejectionOf, sleep } from '../support/helpers.js';
import { holderRecord, LockWorker, startWorkers, tempDir, watch, useLockSandbox } from './fixtures/lock-support.js';

useLockSandbox();

/** A fresh lock directory and a wait registry of the test's own for its children. */
function setup(): { dir: string; registry: string } {
  return { dir: tempDir(), registry: tempDir('deadbolt-fl-reg-') };
}

/** Resolves with the time (performance.now()) at which `promise` fulfils. */
function grantTime(promise: Promise<Guard>): Promise<{ guard: Guard; at: number }> {
  return promise.then((guard) => ({ guard, at: performance.now() }));
}

for (const checks of ['fast', 'checked'] as const) {
  describe(`FileLock against another process (${checks} mode in the parent)`, { timeout: 30_000 }, () => {
    beforeEach(() => (checks === 'fast' ? fastMode() : checkedMode()));

    it('child holds exclusive: tryLock gives null, lock times out naming the child, and the lock is ours once it lets go', async () => {
      const { dir, registry } = setup();
      const path = join(dir, 'ex.lock');
      const [child] = (await startWorkers(1, { registry })) as [LockWorker];
      await child.ok({ op: 'lock', path, mode: 'exclusive', name: 'child-lock', awaitRecord: true });
      const lock = new FileLock(path);
      assert.equal(lock.tryLock('shared'), null);
      assert.equal(lock.tryLock('exclusive'), null);
      assert.equal(lock.heldMode, null);
      for (const mode of ['shared', 'exclusive'] as const) {
        const started = performance.now();
        const error = await rejectionOf(lock.lock({ mode, timeout: 100 }));
        const elapsed = performance.now() - started;
        assert.ok(error instanceof LockTimeoutError, `expected LockTimeoutError, got ${String(error)}`);
        assert.equal(error.code, 'ERR_LOCK_TIMEOUT');
        assert.ok(elapsed >= 95 && elapsed < 1_000, `timed out after ${elapsed.toFixed(1)} ms`);
        assert.match(error.report, new RegExp(`pid ${child.pid} on .*: exclusive since .* as "child-lock"`));
        assert.doesNotMatch(error.report, /\(dead/);
        assert.equal(lock.heldMode, null);
        assert.equal(lock.waiting, 0);
      }
      // The child releases while we wait: the wait is granted.
      const waiting = watch(grantTime(lock.lock({ timeout: 5_000 })));
      await sleep(20);
      assert.equal(waiting.settled, false, 'still waiting while the child holds');
      await child.ok({ op: 'release', path });
      const { guard } = await waiting.promise;
      assert.equal(lock.heldMode, 'exclusive');
      assert.equal((await child.ok({ op: 'tryLock', path, mode: 'shared' })).value, false, 'now the child is kept out');
      guard.release();
      assert.equal((await child.ok({ op: 'tryLock', path, mode: 'exclusive' })).value, true);
      assert.equal(existsSync(path), true);
    });

    it('child holds shared: shared is granted alongside, exclusive is refused until the child releases', async () => {
      const { dir, registry } = setup();
      const path = join(dir, 'sh.lock');
      const [child, other] = (await startWorkers(2, { registry })) as [LockWorker, LockWorker];
      await child.ok({ op: 'lock', path, mode: 'shared', awaitRecord: true });
      const lock = new FileLock(path);

      const probe = lock.tryLock('shared');
      assert.ok(probe, 'tryLock(shared) beside a shared holder');
      probe.release();
      const shared = await lock.lock({ mode: 'shared', timeout: 1_000 });
      assert.equal(lock.heldMode, 'shared');
      assert.equal((await other.ok({ op: 'tryLock', path, mode: 'shared' })).value, true, 'a third process joins too');
      assert.equal((await other.ok({ op: 'tryLock', path: join(dir, 'unrelated.lock'), mode: 'exclusive' })).value, true);
      await other.ok({ op: 'releaseAll' });
      shared.release();
      assert.equal(lock.heldMode, null);

      assert.equal(lock.tryLock('exclusive'), null);
      const error = await rejectionOf(lock.lock({ mode: 'exclusive', timeout: 100 }));
      assert.ok(error instanceof LockTimeoutError, `expected LockTimeoutError, got ${String(error)}`);
      assert.match(error.report, new RegExp(`pid ${child.pid} on .*: shared since`));

      const waiting = watch(lock.lock({ mode: 'exclusive', timeout: 5_000 }));
      await sleep(20);
      assert.equal(waiting.settled, false);
      await child.ok({ op: 'release', path });
      const guard = await waiting.promise;
      assert.equal(lock.heldMode, 'exclusive');
      guard.release();
    });

    it('two children hold shared: the timeout report names both', async () => {
      const { dir, registry } = setup();
      const path = join(dir, 'two.lock');
      const children = await startWorkers(2, { registry });
      await Promise.all(children.map((child) => child.ok({ op: 'lock', path, mode: 'shared', awaitRecord: true })));
      const lock = new FileLock(path);
      const error = await rejectionOf(lock.lock({ timeout: 50 }));
      assert.ok(error instanceof LockTimeoutError);
      for (const child of children) assert.match(error.report, new RegExp(`pid ${child.pid} on .*: shared`));
    });

    it('abort while waiting for a child-held lock rejects with the reason promptly; the lock stays usable', async (t) => {
      const { dir, registry } = setup();
      const path = join(dir, 'abort.lock');
      const [child] = (await startWorkers(1, { registry })) as [LockWorker];
      await child.ok({ op: 'lock', path, mode: 'exclusive' });
      const lock = new FileLock(path);
      const controller = new AbortController();
      const reason = new Error('operator gave up');
      const pending = rejectionOf(lock.lock({ timeout: 10_000, signal: controller.signal }));
      await sleep(30);
      const abortedAt = performance.now();
      controller.abort(reason);
      const error = await pending;
      const took = performance.now() - abortedAt;
      t.diagnostic(`rejected ${took.toFixed(1)} ms after the abort`);
      assert.equal(error, reason);
      assert.ok(took < 100, `rejected ${took.toFixed(1)} ms after the abort`);
      assert.equal(lock.heldMode, null);
      assert.equal(lock.waiting, 0);
      assert.equal(lock.tryLock(), null, 'the child still holds it');

      // Two shared waiters on one OS wait: aborting the first leaves the second waiting.
      const first = new AbortController();
      const aborted = inOtherFlow(() => lock.lock({ mode: 'shared', timeout: 10_000, signal: first.signal }));
      const survivor = watch(inOtherFlow(() => lock.lock({ mode: 'shared', timeout: 10_000 })));
      await sleep(10);
      first.abort('first out');
      assert.equal(await rejectionOf(aborted), 'first out');
      await sleep(10);
      assert.equal(survivor.settled, false, 'the other waiter still waits');
      await child.ok({ op: 'release', path });
      const guard = await survivor.promise;
      assert.equal(lock.heldMode, 'shared');
      guard.release();
      const exclusive = await lock.lock({ timeout: 1_000 });
      assert.equal(lock.heldMode, 'exclusive');
      assert.equal((await child.ok({ op: 'tryLock', path, mode: 'shared' })).value, false);
      exclusive.release();
    });

    it('timeout 0 is a try: it fails at once while a child holds, and succeeds when free', async () => {
      const { dir, registry } = setup();
      const path = join(dir, 'zero.lock');
      const [child] = (await startWorkers(1, { registry })) as [LockWorker];
      await child.ok({ op: 'lock', path, mode: 'exclusive' });
      const lock = new FileLock(path);
      for (const mode of ['exclusive', 'shared'] as const) {
        const started = performance.now();
        const error = await rejectionOf(lock.lock({ mode, timeout: 0 }));
        const took = performance.now() - started;
        assert.ok(error instanceof LockTimeoutError, `expected LockTimeoutError, got ${String(error)}`);
        assert.ok(took < 50, `timeout 0 took ${took.toFixed(1)} ms`);
      }
      assert.equal(lock.heldMode, null);
      await child.ok({ op: 'release', path });
      const guard = await lock.lock({ timeout: 0 });
      assert.equal(lock.heldMode, 'exclusive');
      guard.release();
    });

    it('a timeout covers the OS wait: it rejects after about `timeout` ms, not the default 30 s', async () => {
      const { dir, registry } = setup();
      const path = join(dir, 'timeout.lock');
      const [child] = (await startWorkers(1, { registry })) as [LockWorker];
      await child.ok({ op: 'lock', path, mode: 'shared' });
      const lock = new FileLock(path);
      const started = performance.now();
      const error = await rejectionOf(lock.lock({ timeout: 150 }));
      const took = performance.now() - started;
      assert.ok(error instanceof LockTimeoutError);
      assert.equal(error.timeout, 150);
      assert.ok(took >= 145 && took < 600, `took ${took.toFixed(1)} ms`);
    });
  });
}

describe('FileLock when the holding process is SIGKILLed', { timeout: 30_000 }, () => {
  beforeEach(checkedMode);

  it('the waiter gets the lock within 50 ms of the kill, every time (5 rounds); the lock file stays', async (t) => {
    const ROUNDS = 5;
    const { dir, registry } = setup();
    const children = await startWorkers(ROUNDS, { registry });
    const paths = children.map((_, round) => join(dir, `killed-${round}.lock`));
    await Promise.all(children.map((child, round) => child.ok({ op: 'lock', path: paths[round] as string, mode: 'exclusive', awaitRecord: true })));
    const delays: number[] = [];
    for (const [round, child] of children.entries()) {
      const path = paths[round] as string;
      const lock = new FileLock(path);
      assert.equal(lock.tryLock(), null, `round ${round}: the child holds the lock`);
      const granted = watch(grantTime(lock.lock({ timeout: 5_000 })));
      // Let the waiter settle into its steady poll interval, and vary where between two polls
      // the kill lands.
      await sleep(40 + 9 * round);
      assert.equal(granted.settled, false);
      const killedAt = performance.now();
      child.child.kill('SIGKILL');
      const { guard, at } = await granted.promise;
      delays.push(at - killedAt);
      assert.equal(lock.heldMode, 'exclusive');
      assert.equal(existsSync(path), true, 'the lock file is never unlinked');
      guard.release();
      await child.exited;
    }
    t.diagnostic(`granted after SIGKILL in ${delays.map((d) => d.toFixed(1)).join(', ')} ms`);
    for (const [round, delay] of delays.entries()) assert.ok(delay < 50, `round ${round}: granted ${delay.toFixed(1)} ms after SIGKILL (all: ${delays.map((d) => d.toFixed(1)).join(', ')})`);
    // The dead holders' records are stale now: each lock names no live holder.
    for (const [round, child] of children.entries()) assert.equal(existsSync(holderRecord(paths[round] as string, child.pid)), true, 'a killed holder cannot remove its record');
  });
});
