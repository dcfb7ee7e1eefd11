// N worker threads (and the main thread) increment one plain, non-atomic Int32Array cell under
// one SharedMutex: every read-modify-write is exclusive across threads, so no update is lost.
// The async critical sections await inside (read, await, write), which loses updates at once
// without mutual exclusion; the lockSync ones run in a tight loop. The workers start together
// (each reports ready, then all are woken at once): without the lock, these same scripts lose a
// quarter to two thirds of their updates.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SharedMutex } from '../../dist/threads.js';
import { Flags, checkedMode, fastMode, startWorker, stopWorkers, uniqueName, type Step } from './fixtures/harness.js';

after(stopWorkers);

const M = 500;

async function countWith(styles: readonly ('async' | 'run' | 'sync')[], checks: boolean, mainToo: boolean): Promise<void> {
  const mutex = new SharedMutex({ name: uniqueName('counter'), rank: 10 });
  const counter = new SharedArrayBuffer(4);
  const cells = new Int32Array(counter);
  const control = new Flags();
  const go = control.flag();
  const workers = styles.map((style) => {
    const ready = control.flag();
    const steps: Step[] = [{ op: 'signal', flag: ready }, { op: 'await', flag: go, sync: true }, { op: 'count', m: 0, n: M, style }];
    return { ready, worker: startWorker(steps, [mutex], { checks, control, counter }) };
  });
  for (const { ready } of workers) await control.wait(ready);
  control.signal(go);
  if (mainToo) {
    for (let i = 0; i < M; i++) {
      await mutex.run(async () => {
        const value = cells[0] as number;
        await null;
        cells[0] = value + 1;
      });
    }
  }
  const results = await Promise.all(workers.map(({ worker }) => worker.finish()));
  for (const [i, steps] of results.entries()) {
    for (const step of steps) assert.ok(step.ok, `worker ${i} (${styles[i]}) step ${step.op}: ${step.error?.name}: ${step.error?.message}`);
  }
  assert.equal(cells[0], (styles.length + (mainToo ? 1 : 0)) * M);
  // Free for the next one, in this thread too.
  const guard = mutex.tryLock();
  assert.notEqual(guard, null);
  guard?.release();
}

for (const checks of [true, false]) {
  describe(`counter under one SharedMutex (${checks ? 'checked' : 'fast'} mode)`, { timeout: 20_000 }, () => {
    const setup = checks ? checkedMode : fastMode;
    it('async workers (await inside the critical section)', async () => {
      setup();
      await countWith(['async', 'async', 'run', 'run'], checks, false);
    });

    it('lockSync workers (tight loop)', async () => {
      setup();
      await countWith(['sync', 'sync', 'sync'], checks, false);
    });

    it('mixed lockSync and async workers, and the main thread', async () => {
      setup();
      await countWith(['sync', 'async', 'sync', 'run'], checks, true);
    });
  });
}
