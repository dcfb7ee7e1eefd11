import type { LockOptions } from '../discipline/lock-class.js';
import { runHolding, type Guard } from '../primitives/guard.js';
import type { AcquireOptions } from '../primitives/options.js';
import type { SemaphoreRunOptions } from '../primitives/semaphore.js';
import type { Arena } from './arena.js';
import { LockKind } from './arena-layout.js';
import { CountWord } from './count-word.js';
import { adoptShared, construct, createShared, handleOf, takeAdopted, type SharedLockHandle } from './shared-handle.js';
import { SharedLockCore } from './shared-lock-core.js';
import './worker-exits.js';

/** What crosses a thread boundary: post it to a worker, and `SharedSemaphore.from(handle)` there. */
export interface SharedSemaphoreHandle extends SharedLockHandle<'SharedSemaphore'> {
  readonly permits: number;
}

/** Largest permit count: the count shares its word with nothing, but must stay a positive int32. */
const MAX_PERMITS = 2 ** 30 - 1;

const makeCore = (permits: number) => (shared: Arena, lock: number, options: LockOptions) => new SharedLockCore('SharedSemaphore', shared, lock, options, permits, new CountWord(shared, lock, permits));

/**
 * A counting semaphore shared by worker threads: at most `permits` units held at once across
 * all threads, each acquisition taking a weight (default 1).
 *
 * - Within a thread, requests queue FIFO (a heavy request is not overtaken by light ones behind
 *   it). Across threads there is no fairness: whichever thread finds enough units free takes them.
 * - Timeout and abort bound every wait; `acquireSync` blocks the thread (Atomics.wait).
 * - Checked mode: ranks from the shared class table, order checks per flow, and the cross-thread
 *   wait-for check, where a cycle counts only when every holder on it is blocked.
 * - The units of a thread that dies holding them are given back; the next acquirer sees
 *   `ownerDied === true` until it releases.
 *
 * @example
 * const gpu = new SharedSemaphore(2, { name: 'gpu-slots' });
 * new Worker(file, { workerData: { gpu: gpu.handle } });
 * await gpu.run(() => render(frame));           // at most 2 at a time, in all threads
 */
export class SharedSemaphore {
  readonly #core: SharedLockCore;

  constructor(permits: number, options?: LockOptions) {
    const adopted = takeAdopted<SharedLockCore>();
    if (adopted !== null) {
      this.#core = adopted;
      return;
    }
    if (!Number.isSafeInteger(permits) || permits < 1 || permits > MAX_PERMITS) throw new RangeError(`SharedSemaphore permits must be an integer from 1 to ${MAX_PERMITS}, got ${String(permits)}`);
    this.#core = createShared('SharedSemaphore', LockKind.Semaphore, options, makeCore(permits));
    // The permit count travels in the handle; a joining thread trusts the arena's, stored here.
    this.#core.shared.setAux(this.#core.lock, permits);
  }

  /** Rebuilds a semaphore posted from another thread (joining its arena if this thread has none). */
  static from(handle: SharedSemaphoreHandle): SharedSemaphore {
    const core = adoptShared(handle, 'SharedSemaphore', LockKind.Semaphore, (shared, lock, options) => makeCore(shared.auxOf(lock))(shared, lock, options));
    return construct(core, () => new SharedSemaphore(core.capacity));
  }

  /** What to post to another thread; rebuild it there with `SharedSemaphore.from`. */
  get handle(): SharedSemaphoreHandle {
    return { ...handleOf('SharedSemaphore', this.#core.shared, this.#core.lock, this.#core.name, this.#core.rank), permits: this.#core.capacity };
  }

  /** For reports, e.g. `SharedSemaphore "gpu-slots"`. */
  get label(): string {
    return this.#core.label;
  }

  /** True while this thread holds units taken right after a dead thread's units were given back. */
  get ownerDied(): boolean {
    return this.#core.ownerDied;
  }

  get permits(): number {
    return this.#core.capacity;
  }

  /** Units free across all threads right now (a snapshot: other threads may take them at once). */
  get available(): number {
    return this.#core.capacity - this.#core.shared.countOf(this.#core.lock);
  }

  /** Takes `weight` units, waiting without blocking the thread. */
  acquire(weight = 1, options?: AcquireOptions): Promise<Guard> {
    try {
      return this.#core.acquire('shared', this.#weight(weight, 'acquire'), options, SharedSemaphore.prototype.acquire);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Takes `weight` units, blocking the thread (Atomics.wait) until they are free. */
  acquireSync(weight = 1, options?: { timeout?: number }): Guard {
    return this.#core.acquireSync('shared', this.#weight(weight, 'acquireSync'), options, SharedSemaphore.prototype.acquireSync, 'acquireSync');
  }

  /** `weight` units if free now and nobody in this thread queues ahead, else null; never waits. */
  tryAcquire(weight = 1): Guard | null {
    return this.#core.tryAcquire('shared', this.#weight(weight, 'tryAcquire'), SharedSemaphore.prototype.tryAcquire);
  }

  /** Runs `fn` holding `options.weight` units (default 1) and releases them however `fn` ends. */
  run<T>(fn: () => T | PromiseLike<T>, options?: SemaphoreRunOptions): Promise<T> {
    try {
      const weight = this.#weight(options?.weight ?? 1, 'run');
      return runHolding(this.#core.acquire('shared', weight, options, SharedSemaphore.prototype.run), fn);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #weight(weight: number, method: string): number {
    if (!Number.isSafeInteger(weight) || weight < 1 || weight > this.#core.capacity) {
      throw new RangeError(`${this.#core.label}.${method}(): weight must be an integer from 1 to ${this.#core.capacity}, got ${String(weight)}`);
    }
    return weight;
  }
}
