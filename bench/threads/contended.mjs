/**
 * Contended lock + unlock: two worker threads that this process spawns each take one lock K times
 * around a tiny critical section (a non-atomic increment of a shared Int32Array, and noting
 * which worker last held the lock, to count hand-offs between the workers), started
 * together by a barrier. The figure is the total ops/s of both, from the first start to the last
 * finish. After every run the shared count must be exactly 2K: anything else is a mutual-
 * exclusion violation and aborts the run (the process exits non-zero).
 *
 *   node [--harmony-struct] contended.mjs <config JSON>
 *
 * config: { distUrl, mode, samples, targetMs, warmupMs }; mode is one of
 *   deadbolt-sync    SharedMutex: g = m.lockSync(); count++; g.release()   (DEADBOLT_CHECKS picks the mode)
 *   floor            the bare CAS + Atomics.wait mutex of locks.mjs
 *   atomics-mutex    Atomics.Mutex.lock(mutex, () => count++)              (needs --harmony-struct)
 * Prints one JSON line: { mode, available, samples, units, runs }; each sample has `handoffs`,
 * how many times the lock passed from one worker to the other.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { now, report, runMain, settle, warmUp } from '../fs/common.mjs';
import { barrier, floorLock, floorUnlock, hasAtomicsMutex } from './locks.mjs';

const WORKERS = 2;

async function main() {
  const config = JSON.parse(process.argv[2] ?? '');
  const { mode } = config;
  if (mode === 'atomics-mutex' && !hasAtomicsMutex()) {
    report({ mode, available: false, samples: [], units: 0, runs: 0 });
    return;
  }
  let lock;
  if (mode === 'deadbolt-sync') {
    const { SharedMutex } = await import(config.distUrl);
    lock = new SharedMutex({ name: 'bench' }).handle;
  } else if (mode === 'floor') lock = new Int32Array(new SharedArrayBuffer(4));
  else if (mode === 'atomics-mutex') lock = new Atomics.Mutex();
  else throw new Error(`unknown mode ${mode}`);
  // The protected data, on a cache line of its own (away from the lock word and the barrier):
  // [0] the count, [1] the worker that last held the lock (1-based), [2] hand-offs between workers.
  const count = new Int32Array(new SharedArrayBuffer(128), 64, 3);
  const ctl = new Int32Array(new SharedArrayBuffer(4));
  const workers = [];
  const pending = [];
  const ready = [];
  for (let w = 0; w < WORKERS; w++) {
    ready.push(new Promise((resolve, reject) => (pending[w] = { resolve, reject })));
    const worker = new Worker(new URL(import.meta.url), { workerData: { config, lock, count, ctl, me: w + 1 } });
    worker.on('message', (message) => pending[w]?.resolve(message));
    worker.on('error', (error) => pending[w]?.reject(error));
    worker.on('exit', (code) => pending[w]?.reject(new Error(`worker ${w} exited with ${code}`)));
    workers.push(worker);
  }
  try {
    // Calibration must not time the workers' start-up (loading deadbolt).
    await Promise.all(ready);
    report(await measure(config, workers, pending, count, ctl));
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

async function measure(config, workers, pending, count, ctl) {
  const { mode } = config;
  let runs = 0;
  /** Both workers take the lock `units` times each; resolves with the span from first start to last end. */
  const runPair = async (units) => {
    count.fill(0);
    Atomics.store(ctl, 0, 0);
    const results = await Promise.all(
      workers.map((worker, w) => {
        const done = new Promise((resolve, reject) => (pending[w] = { resolve, reject }));
        worker.postMessage(units);
        return done;
      }),
    );
    runs++;
    const total = Atomics.load(count, 0);
    if (total !== WORKERS * units) throw new Error(`mutual exclusion violated (${mode}): the shared count is ${total} after ${WORKERS} x ${units} locked increments`);
    return { ms: Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start)), handoffs: Atomics.load(count, 2) };
  };
  const units = await warmUp(async (n) => void (await runPair(n)), 1_000, config.targetMs, config.warmupMs);
  const samples = [];
  for (let s = 0; s < config.samples; s++) {
    const { ms, handoffs } = await runPair(units);
    samples.push({ ops: WORKERS * units, ms, opsPerSec: ((WORKERS * units) / ms) * 1000, handoffs });
    await settle();
  }
  return { mode, available: true, samples, units, runs };
}

async function inWorker() {
  const { config, lock, count, ctl, me } = workerData;
  /** The critical section: count, and count a hand-off when the other worker held the lock last. */
  const critical = () => {
    count[0] = count[0] + 1;
    if (count[1] !== me) {
      count[1] = me;
      count[2] = count[2] + 1;
    }
  };
  let run;
  switch (config.mode) {
    case 'deadbolt-sync': {
      const { SharedMutex } = await import(config.distUrl);
      const m = SharedMutex.from(lock);
      run = (n) => {
        for (let i = 0; i < n; i++) {
          const guard = m.lockSync();
          critical();
          guard.release();
        }
      };
      break;
    }
    case 'floor':
      run = (n) => {
        for (let i = 0; i < n; i++) {
          floorLock(lock);
          critical();
          floorUnlock(lock);
        }
      };
      break;
    case 'atomics-mutex': {
      run = (n) => {
        for (let i = 0; i < n; i++) Atomics.Mutex.lock(lock, critical);
      };
      break;
    }
    default:
      throw new Error(`unknown mode ${config.mode}`);
  }
  parentPort.on('message', (units) => {
    barrier(ctl, 0, WORKERS);
    const start = now();
    run(units);
    const end = now();
    parentPort.postMessage({ start, end });
  });
  parentPort.postMessage('ready');
}

if (isMainThread) runMain(main);
else await inWorker();
