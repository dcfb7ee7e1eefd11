import type { LockOptions } from '../discipline/lock-class.js';
import { state } from '../discipline/state.js';
import { FifoLock } from './fifo-lock.js';
import { LockGuard, runHolding, type Guard } from './guard.js';
import type { AcquireOptions } from './options.js';

/**
 * An async mutual-exclusion lock.
 *
 * - Fairness: strict FIFO; a release hands the lock to the longest waiter.
 * - Timeout and abort reject the waiter (`LockTimeoutError`, or `signal.reason`) and unlink it at once.
 * - Not reentrant. In checked mode, re-locking a mutex the flow holds rejects with `DeadlockError`,
 *   its rank and class are checked against every lock the flow holds (`LockOrderError`), the order
 *   is learned, and a wait that would close a cycle rejects with `DeadlockError`.
 *
 * @example
 * const coffer = new Mutex({ name: 'coffer', rank: 10 });
 * await using guard = await coffer.lock({ timeout: 1_000 });
 * // ... critical section
 */
export class Mutex extends FifoLock {
  constructor(options?: LockOptions) {
    super('Mutex', options, 1);
  }

  /** Waits for the lock. Resolves to a guard; release it, or use `using`. */
  lock(options?: AcquireOptions): Promise<Guard> {
    if (options === undefined && this.units === 0 && this.queue.size === 0 && !state.config.checks) {
      this.units = 1;
      this.exclusive = true;
      return Promise.resolve(new LockGuard(this, 'exclusive', 1));
    }
    return this.acquireUnits('exclusive', 1, options, Mutex.prototype.lock);
  }

  /**
   * Takes the lock only if that needs no waiting (nobody holds it and nobody is queued); never
   * queues. A try-lock is exempt from ordering rules and teaches no order edge, but the hold is
   * recorded for the running flow.
   */
  tryLock(): Guard | null {
    return this.tryAcquireUnits('exclusive', 1, Mutex.prototype.tryLock);
  }

  /** Runs `fn` holding the lock and returns its result; the lock is released even if `fn` throws. */
  run<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(this.acquireUnits('exclusive', 1, options, Mutex.prototype.run), fn);
  }

  /** True while some flow holds the lock. */
  get isLocked(): boolean {
    return this.units !== 0;
  }
}
