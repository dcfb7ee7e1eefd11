// offload() and OffloadPool with real piscina workers: results and errors come back, timeout and
// abort cancel the task (a running task's worker is terminated) and leave the pool usable, many
// tasks run at once, tasks share SharedMutex handles and the arena with the main thread, and a
// program that offloads exits by itself.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { pbkdf2Sync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { DeadboltError, getConfig } from '../../dist/index.js';
import { OffloadClosedError, OffloadPool, OffloadTimeoutError, SharedMutex, offload } from '../../dist/threads.js';
import { Flags, checkedMode, fastMode, rejectionOf, uniqueName, within } from './fixtures/harness.js';

const kdf = new URL('./fixtures/offload-kdf.mjs', import.meta.url);
const shared = new URL('./fixtures/offload-shared.mjs', import.meta.url);

interface Derived {
  readonly key: string;
  readonly threadId: number;
}

const expectedKey = (password: string, iterations: number): string => pbkdf2Sync(password, 'salt', iterations, 32, 'sha256').toString('hex');

/** A run of 10 s of busy work: only cancellation ends it in time. */
const STUCK = { busyMs: 10_000 };
/** Cancelled work must free its worker well within this (the stuck task would take 10 s). */
const FREED_WITHIN_MS = 3_000;

describe('offload(): results, errors, cancellation', { timeout: 60_000 }, () => {
  it('runs a real task in a worker thread and resolves with its result', async () => {
    fastMode();
    const result = (await offload(kdf, { password: 'hunter2', salt: 'salt', iterations: 50_000 })) as Derived;
    assert.equal(result.key, expectedKey('hunter2', 50_000));
    assert.notEqual(result.threadId, threadId);
    // A path works as well as a URL, and reuses the same default pool.
    const again = (await offload(fileURLToPath(kdf), { password: 'x', salt: 'salt', iterations: 10 })) as Derived;
    assert.equal(again.key, expectedKey('x', 10));
  });

  it('moves what transferList names instead of copying it', async () => {
    fastMode();
    const password = new TextEncoder().encode('moved secret');
    const buffer = password.buffer;
    const result = (await offload(kdf, { password, salt: 'salt', iterations: 1_000 }, { transferList: [buffer] })) as Derived;
    assert.equal(result.key, expectedKey('moved secret', 1_000));
    assert.equal(buffer.byteLength, 0, 'the buffer was copied, not moved');
  });

  it('rejects with the error the task throws', async () => {
    fastMode();
    const error = await rejectionOf(offload(kdf, { fail: 'bad input' }));
    assert.ok(error instanceof RangeError, `expected the task's RangeError, got ${String(error)}`);
    assert.equal(error.message, 'bad input');
  });

  it('timeout rejects with OffloadTimeoutError, cancels the running task, and the pool goes on', async () => {
    fastMode();
    await using pool = new OffloadPool<object, Derived>({ filename: kdf, minThreads: 1, maxThreads: 1 });
    const started = performance.now();
    const error = await rejectionOf(pool.run(STUCK, { timeout: 150 }));
    assert.ok(error instanceof OffloadTimeoutError, `expected OffloadTimeoutError, got ${String(error)}`);
    assert.ok(error instanceof DeadboltError);
    assert.equal(error.code, 'ERR_OFFLOAD_TIMEOUT');
    assert.equal(OffloadTimeoutError.CODE, 'ERR_OFFLOAD_TIMEOUT');
    assert.equal(error.timeout, 150);
    assert.equal(error.task, '"offload-kdf.mjs"');
    assert.match(error.report, /cancelled/);
    assert.ok(performance.now() - started < 1_000, 'the timeout fired late');
    // One worker only: had the stuck task not been cancelled, this would wait ~10 s behind it.
    const next = await within(pool.run({ password: 'after', salt: 'salt', iterations: 1_000 }), FREED_WITHIN_MS, () => 'the pool was still busy with the timed-out task');
    assert.equal(next.key, expectedKey('after', 1_000));
  });

  it("abort rejects with the signal's reason, cancels the running task, and the pool goes on", async () => {
    fastMode();
    await using pool = new OffloadPool<object, Derived>({ filename: kdf, minThreads: 1, maxThreads: 1 });
    const controller = new AbortController();
    const reason = new Error('request closed');
    const running = pool.run(STUCK, { signal: controller.signal, timeout: 60_000 });
    setTimeout(() => controller.abort(reason), 100);
    assert.equal(await rejectionOf(running), reason);
    const next = await within(pool.run({ password: 'after', salt: 'salt', iterations: 1_000 }), FREED_WITHIN_MS, () => 'the pool was still busy with the aborted task');
    assert.equal(next.key, expectedKey('after', 1_000));
  });

  it('abort of a queued task drops it; an aborted signal rejects at once', async () => {
    fastMode();
    await using pool = new OffloadPool<object, Derived>({ filename: kdf, minThreads: 1, maxThreads: 1 });
    const first = pool.run({ busyMs: 300, password: 'first', salt: 'salt', iterations: 1 });
    const controller = new AbortController();
    const queued = pool.run(STUCK, { signal: controller.signal });
    controller.abort('no longer needed');
    assert.equal(await rejectionOf(queued), 'no longer needed');
    // The first task was not disturbed, and the dropped one never ran (it would hold the only worker for 10 s).
    assert.equal((await first).key, expectedKey('first', 1));
    await within(pool.run({ password: 'x', salt: 'salt', iterations: 1 }), FREED_WITHIN_MS, () => 'the aborted queued task ran');
    assert.equal(await rejectionOf(pool.run(STUCK, { signal: AbortSignal.abort('already') })), 'already');
  });

  it('runs many concurrent tasks, each with its own result', async () => {
    fastMode();
    await using pool = new OffloadPool<object, Derived>({ filename: kdf, maxThreads: 3 });
    const passwords = Array.from({ length: 64 }, (_, i) => `password-${i}`);
    const results = await Promise.all(passwords.map((password) => pool.run({ password, salt: 'salt', iterations: 5_000 })));
    results.forEach((result, i) => assert.equal(result.key, expectedKey(passwords[i] as string, 5_000)));
    assert.ok(new Set(results.map((result) => result.threadId)).size >= 2, 'the work was not spread over several workers');
  });

  it('close() finishes running work, then refuses runs with OffloadClosedError; destroy() rejects running work', async () => {
    fastMode();
    const pool = new OffloadPool<object, Derived>({ filename: kdf, maxThreads: 1 });
    const running = pool.run({ busyMs: 100, password: 'p', salt: 'salt', iterations: 1 });
    await pool.close();
    assert.equal((await running).key, expectedKey('p', 1));
    const refused = await rejectionOf(pool.run({ password: 'p', salt: 'salt' }));
    assert.ok(refused instanceof OffloadClosedError);
    assert.equal(refused.code, 'ERR_OFFLOAD_CLOSED');

    const doomed = new OffloadPool<object, Derived>({ filename: kdf, maxThreads: 1 });
    const stuck = rejectionOf(doomed.run(STUCK));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await doomed.destroy();
    assert.ok((await within(stuck, FREED_WITHIN_MS, () => 'destroy() did not end the running task')) instanceof Error);
    assert.ok((await rejectionOf(doomed.run({ password: 'p', salt: 'salt' }))) instanceof OffloadClosedError);
  });

  it('bad arguments are refused with errors that name them', async () => {
    assert.throws(() => new OffloadPool({ filename: 'relative/task.mjs' }), { name: 'TypeError', message: /filename must be an absolute path or a file: URL/ });
    assert.throws(() => new OffloadPool(null as never), TypeError);
    assert.throws(() => new OffloadPool({ filename: kdf, name: '' }), /name must be/);
    await assert.rejects(offload('task.mjs', {}), /absolute path/);
    await assert.rejects(offload(kdf, {}, { timeout: 0 }), { name: 'RangeError', message: /timeout/ });
    await assert.rejects(offload(kdf, {}, { timeout: Number.NaN }), RangeError);
    await assert.rejects(offload(kdf, {}, { signal: {} as AbortSignal }), { name: 'TypeError', message: /signal/ });
    await assert.rejects(offload(kdf, {}, { timout: 5 } as never), { name: 'TypeError', message: /unknown option "timout"/ });
  });
});

for (const checks of [true, false]) {
  describe(`offload() and shared locks (${checks ? 'checked' : 'fast'} mode)`, { timeout: 60_000 }, () => {
    const setup = checks ? checkedMode : fastMode;

    it('a task and the main thread exclude each other through one SharedMutex handle', async () => {
      setup();
      await using pool = new OffloadPool<object, { threadId: number }>({ filename: shared, minThreads: 2, maxThreads: 2 });
      const mutex = new SharedMutex({ name: uniqueName('offload-counter'), rank: 10 });
      const counter = new SharedArrayBuffer(4);
      const cells = new Int32Array(counter);
      const N = 2_000;
      const M = 300;
      const tasks = [pool.run({ handle: mutex.handle, counter, n: N, style: 'sync' }), pool.run({ handle: mutex.handle, counter, n: M, style: 'async' })];
      for (let i = 0; i < M; i++) {
        await mutex.run(async () => {
          const value = cells[0] as number;
          await null;
          cells[0] = value + 1;
        });
      }
      const ran = await Promise.all(tasks);
      assert.ok(ran.every((result) => result.threadId !== threadId));
      assert.equal(cells[0], N + 2 * M);
    });

    it('workers join the arena without joinThreads, and run in the mode the pool was created in', async () => {
      setup();
      await using pool = new OffloadPool<object, { handle: SharedMutex['handle']; sameArena: boolean; checks: boolean }>({ filename: shared, name: 'create', maxThreads: 1 });
      assert.equal(pool.task, '"offload-shared.mjs#create"');
      const name = uniqueName('made-in-worker');
      const made = await pool.run({ name, rank: 7 });
      assert.equal(made.sameArena, true);
      assert.equal(made.checks, checks);
      assert.equal(getConfig().checks, checks);
      // Rebuilding a worker's lock here would throw, had the worker made an arena of its own.
      const mutex = SharedMutex.from(made.handle);
      assert.equal(mutex.handle.rank, 7);
      const guard = mutex.tryLock();
      assert.notEqual(guard, null);
      guard?.release();
    });

    it('a task cancelled while holding a shared lock passes it on with ownerDied', async () => {
      setup();
      await using pool = new OffloadPool<object, unknown>({ filename: shared, name: 'holdBusy', maxThreads: 1 });
      const mutex = new SharedMutex({ name: uniqueName('held-by-task') });
      const control = new Flags();
      const controller = new AbortController();
      const holding = pool.run({ handle: mutex.handle, flag: control.buffer, holdMs: 10_000 }, { signal: controller.signal });
      await control.wait(0);
      assert.equal(mutex.tryLock(), null);
      controller.abort(new Error('cancel'));
      await assert.rejects(holding, { message: 'cancel' });
      const guard = await mutex.lock({ timeout: FREED_WITHIN_MS });
      assert.equal(mutex.ownerDied, true);
      guard.release();
      assert.equal(mutex.ownerDied, false);
    });
  });
}

describe('offload() and process lifetime', { timeout: 30_000 }, () => {
  it('a program that offloads (and never closes a pool or stops a watch) exits by itself', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/offload-exit-child.mjs', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
    const { code, at } = await within(exited, 15_000, () => {
      child.kill('SIGKILL');
      return `the child did not exit by itself; stdout: ${stdout}; stderr: ${stderr}`;
    });
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout.trim()) as { keys: number[]; timedOut: boolean; failed: string; pooled: number; samples: boolean; doneAt: number };
    assert.deepEqual(report.keys, [64, 64, 64, 64]);
    assert.equal(report.timedOut, true);
    assert.equal(report.failed, 'boom');
    assert.equal(report.pooled, 64);
    assert.equal(report.samples, true);
    // Exiting is immediate once the work is done: nothing (idle workers, timers, the watch) holds it.
    assert.ok(at - report.doneAt < 1_000, `the child took ${at - report.doneAt} ms to exit after its work was done`);
  });
});
