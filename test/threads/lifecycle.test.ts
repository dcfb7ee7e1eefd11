import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { SharedMutex } from '../../dist/threads.js';

const fixture = new URL('./fixtures/lifecycle-worker.mjs', import.meta.url);

function runWorker(workerData: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(fixture, { workerData });
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
}

describe('deadbolt/threads: thread lifecycles', { timeout: 60_000 }, () => {
  it('slots of exited workers are reused: 270 short-lived workers join one arena of 256 slots', async () => {
    const handle = new SharedMutex({ name: 'lifecycle-join' }).handle;
    for (let batch = 0; batch < 9; batch++) {
      const codes = await Promise.all(Array.from({ length: 30 }, () => runWorker({ handle, mode: 'join' })));
      assert.deepEqual(new Set(codes), new Set([0]), `batch ${batch}: every worker joined and exited cleanly`);
    }
  });

  it('lockSync in the creating thread takes over the lock of a worker that exits holding it', async () => {
    const mutex = new SharedMutex({ name: 'lifecycle-exit' });
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const exited = runWorker({ handle: mutex.handle, mode: 'exit-holding', flag: flag.buffer });
    while (Atomics.load(flag, 0) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const started = performance.now();
    // Blocks this thread's event loop: the worker's own exit handler must be what frees the lock.
    const guard = mutex.lockSync({ timeout: 2_000 });
    const waited = performance.now() - started;
    assert.equal(mutex.ownerDied, true);
    assert.ok(waited < 1_000, `taken over after ${waited.toFixed(0)} ms, not at the timeout`);
    guard.release();
    assert.equal(mutex.ownerDied, false);
    assert.equal(await exited, 0);
  });
});
