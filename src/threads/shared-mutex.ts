import type { LockOptions } from '../discipline/lock-class.js';
import { runHolding, type Guard } from '../primitives/guard.js';
import type { AcquireOptions } from '../primitives/options.js';
import { LockKind } from './arena-layout.js';
import { FutexWord } from './futex-word.js';
import { adoptShared, construct, createShared, handleOf, takeAdopted, type SharedLockHandle } from './shared-handle.js';
import { SharedLockCore } from './shared-lock-core.js';
import './worker-exits.js';

/** What crosses a thread boundary: post it to a worker, and `SharedMutex.from(handle)` there. */
export type SharedMutexHandle = SharedLockHandle<'SharedMutex'>;

const makeCore = (kind: string) => (shared: ConstructorParameters<typeof FutexWord>[0], lock: number, options: LockOptions) => new SharedLockCore(kind, shared, lock, options, 1, new FutexWord(shared, lock));

/** @internal The core behind a SharedMutex (SharedCondition needs it). */
export const coreOfMutex = new WeakMap<SharedMutex, SharedLockCore>();

/**
 * A mutex shared by worker threads through a SharedArrayBuffer, futex-style: compare-and-swap
 * when free, `Atomics.waitAsync` for `lock()`, `Atomics.wait` for `lockSync()`.
 *
 * - Within a thread, flows queue FIFO (and checked mode applies the core's rules per flow);
 *   across threads there is no fairness.
 * - Timeout and abort bound both waits. Post `mutex.handle` to a worker and rebuild it there
 *   with `SharedMutex.from(handle)`. A named mutex's rank lives in the shared class table, so
 *   every thread checks the same ranks; the wait-for table is shared too.
 * - Checked mode: a flow that waits while holding other shared locks publishes the wait; one that
 *   would close a cycle across threads gets `DeadlockError` (within ~1 ms), the others go on.
 * - A thread that dies holding the lock does not block the next acquirer: it gets the lock with
 *   `mutex.ownerDied === true` (robust-mutex EOWNERDEAD); repair the protected state, then
 *   release. Deaths are seen for workers created by threads that loaded deadbolt/threads.
 *
 * @example
 * const counter = new SharedMutex({ name: 'counter', rank: 10 });
 * new Worker(file, { workerData: { counter: counter.handle } });
 * // in the worker: const m = SharedMutex.from(workerData.counter); await m.run(() => add());
 */
export class SharedMutex {
  readonly #core: SharedLockCore;

  constructor(options?: LockOptions) {
    this.#core = takeAdopted<SharedLockCore>() ?? createShared('SharedMutex', LockKind.Mutex, options, makeCore('SharedMutex'));
    coreOfMutex.set(this, this.#core);
  }

  /** Rebuilds a mutex posted from another thread (joining its arena if this thread has none). */
  static from(handle: SharedMutexHandle): SharedMutex {
    const core = adoptShared(handle, 'SharedMutex', LockKind.Mutex, makeCore('SharedMutex'));
    return construct(core, () => new SharedMutex());
  }

  /** What to post to another thread (postMessage or workerData); rebuild it there with `SharedMutex.from`. */
  get handle(): SharedMutexHandle {
    return handleOf('SharedMutex', this.#core.shared, this.#core.lock, this.#core.name, this.#core.rank);
  }

  /** For reports, e.g. `SharedMutex "counter"`. */
  get label(): string {
    return this.#core.label;
  }

  /** True while this thread holds the lock it took over from a thread that died holding it. */
  get ownerDied(): boolean {
    return this.#core.ownerDied;
  }

  /**
   * Waits without blocking the thread: FIFO behind this thread's other flows, then for other
   * threads (Atomics.waitAsync). Timeout and abort reject and leave nothing queued; checked mode
   * may reject with LockOrderError or DeadlockError (a cycle within or across threads).
   *
   * @example
   * await using guard = await mutex.lock({ timeout: 1_000 });
   */
  lock(options?: AcquireOptions): Promise<Guard> {
    return this.#core.acquire('exclusive', 1, options, SharedMutex.prototype.lock);
  }

  /**
   * Blocks the whole thread until the lock is free (Atomics.wait), for workers doing synchronous
   * work. Throws instead of blocking when another flow of this thread holds or awaits the lock;
   * throws LockTimeoutError after `timeout`, and DeadlockError if waiting would close a cycle.
   *
   * @example
   * const guard = mutex.lockSync({ timeout: 100 });
   * try { counter[0]++; } finally { guard.release(); }
   */
  lockSync(options?: { timeout?: number }): Guard {
    return this.#core.acquireSync('exclusive', 1, options, SharedMutex.prototype.lockSync, 'lockSync');
  }

  /** The lock if nobody in any thread holds it and no flow of this thread waits for it; never waits. */
  tryLock(): Guard | null {
    return this.#core.tryAcquire('exclusive', 1, SharedMutex.prototype.tryLock);
  }

  /** Runs `fn` holding the lock (taken with `lock()`) and releases it however `fn` ends. */
  run<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(this.lock(options), fn);
  }
}
