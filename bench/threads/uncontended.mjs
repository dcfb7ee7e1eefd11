/**
 * Uncontended lock + unlock of one lock, in a loop run by ONE worker thread that this process
 * spawns (the main thread creates the lock, as a program would, and only waits).
 *
 *   node [--harmony-struct] uncontended.mjs <config JSON>
 *
 * config: { distUrl, mode, samples, targetMs, warmupMs }; mode is one of
 *   deadbolt-sync    SharedMutex: m.lockSync().release()   (DEADBOLT_CHECKS picks the mode)
 *   deadbolt-async   SharedMutex: (await m.lock()).release()
 *   deadbolt-try     SharedMutex: m.tryLock().release()      (breakdown)
 *   deadbolt-read    SharedRwLock: l.readSync().release()
 *   deadbolt-sem     SharedSemaphore(4): s.acquireSync().release()
 *   deadbolt-local   in-thread Mutex (dist/index.js next to distUrl): m.tryLock().release(),
 *                    the in-thread layer of SharedMutex without the futex word   (breakdown)
 *   floor            the bare CAS + Atomics.wait mutex of locks.mjs
 *   atomics-mutex    Atomics.Mutex.lock(mutex, () => {})      (needs --harmony-struct)
 * Prints one JSON line: { mode, available, samples, units }.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { report, runMain, sample, warmUp } from '../fs/common.mjs';
import { floorLock, floorUnlock, hasAtomicsMutex } from './locks.mjs';

async function main() {
  const config = JSON.parse(process.argv[2] ?? '');
  const { mode } = config;
  if (mode === 'atomics-mutex' && !hasAtomicsMutex()) {
    report({ mode, available: false, samples: [], units: 0 });
    return;
  }
  let lock;
  if (mode === 'deadbolt-local') lock = null;
  else if (mode.startsWith('deadbolt-')) {
    const { SharedMutex, SharedRwLock, SharedSemaphore } = await import(config.distUrl);
    if (mode === 'deadbolt-read') lock = new SharedRwLock({ name: 'bench' }).handle;
    else if (mode === 'deadbolt-sem') lock = new SharedSemaphore(4, { name: 'bench' }).handle;
    else lock = new SharedMutex({ name: 'bench' }).handle;
  } else if (mode === 'floor') lock = new Int32Array(new SharedArrayBuffer(4));
  else if (mode === 'atomics-mutex') lock = new Atomics.Mutex();
  else throw new Error(`unknown mode ${mode}`);
  const worker = new Worker(new URL(import.meta.url), { workerData: { config, lock } });
  const result = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
  });
  report({ mode, available: true, ...result });
}

async function inWorker() {
  const { config, lock } = workerData;
  let run;
  switch (config.mode) {
    case 'deadbolt-sync':
    case 'deadbolt-async':
    case 'deadbolt-try': {
      const { SharedMutex } = await import(config.distUrl);
      const m = SharedMutex.from(lock);
      if (config.mode === 'deadbolt-sync') {
        run = async (n) => {
          for (let i = 0; i < n; i++) m.lockSync().release();
        };
      } else if (config.mode === 'deadbolt-async') {
        run = async (n) => {
          for (let i = 0; i < n; i++) (await m.lock()).release();
        };
      } else {
        run = async (n) => {
          for (let i = 0; i < n; i++) m.tryLock().release();
        };
      }
      break;
    }
    case 'deadbolt-read': {
      const { SharedRwLock } = await import(config.distUrl);
      const l = SharedRwLock.from(lock);
      run = async (n) => {
        for (let i = 0; i < n; i++) l.readSync().release();
      };
      break;
    }
    case 'deadbolt-sem': {
      const { SharedSemaphore } = await import(config.distUrl);
      const s = SharedSemaphore.from(lock);
      run = async (n) => {
        for (let i = 0; i < n; i++) s.acquireSync().release();
      };
      break;
    }
    case 'deadbolt-local': {
      const { Mutex } = await import(new URL('./index.js', config.distUrl).href);
      const m = new Mutex({ name: 'bench' });
      run = async (n) => {
        for (let i = 0; i < n; i++) m.tryLock().release();
      };
      break;
    }
    case 'floor':
      run = async (n) => {
        for (let i = 0; i < n; i++) {
          floorLock(lock);
          floorUnlock(lock);
        }
      };
      break;
    case 'atomics-mutex': {
      const critical = () => {};
      run = async (n) => {
        for (let i = 0; i < n; i++) Atomics.Mutex.lock(lock, critical);
      };
      break;
    }
    default:
      throw new Error(`unknown mode ${config.mode}`);
  }
  const units = await warmUp(run, 1_000, config.targetMs, config.warmupMs);
  const samples = await sample(run, units, config.samples);
  parentPort.postMessage({ samples, units });
}

if (isMainThread) runMain(main);
else await inWorker();
