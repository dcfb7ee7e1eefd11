import type { LockOptions } from '../discipline/lock-class.js';
import { FifoLock } from './fifo-lock.js';
import { runHolding, type Guard } from './guard.js';
import type { LockSpec } from './lock-spec.js';
import type { AcquireOptions } from './options.js';

export interface SemaphoreRunOptions extends AcquireOptions {
  /** Permits to hold while `fn` runs (default 1). */
  readonly weight?: number;
}

/**
 * A counting semaphore with weighted acquisition, strict FIFO: a waiter at the head is never
 * overtaken, so a heavy request is not starved by a stream of light ones.
 *
 * - Timeout and abort reject the waiter and unlink it; those behind it are let in if they fit.
 * - Checked mode: ranks, classes and the learned order apply. A wait counts as a deadlock only
 *   when the holders that could free enough permits are all blocked on this flow.
 *
 * @example
 * const pool = new Semaphore(4, { name: 'db-connections' });
 * await pool.run(() => query(sql), { weight: 1, timeout: 5_000 });
 */
export class Semaphore extends FifoLock {
  constructor(permits: number, options?: LockOptions) {
    if (!Number.isSafeInteger(permits) || permits < 1) throw new RangeError(`Semaphore permits must be a positive integer, got ${String(permits)}`);
    super('Semaphore', options, permits);
  }

  /** Waits for `weight` permits (1 to the semaphore's size). */
  acquire(weight = 1, options?: AcquireOptions): Promise<Guard> {
    try {
      return this.acquireUnits('shared', this.checkWeight(weight, 'acquire'), options, Semaphore.prototype.acquire);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `weight` permits if they are free and nobody is queued; never queues. */
  tryAcquire(weight = 1): Guard | null {
    return this.tryAcquireUnits('shared', this.checkWeight(weight, 'tryAcquire'), Semaphore.prototype.tryAcquire);
  }

  /** Runs `fn` holding `weight` permits and returns its result. */
  run<T>(fn: () => T | PromiseLike<T>, options?: SemaphoreRunOptions): Promise<T> {
    try {
      const weight = this.checkWeight(options?.weight ?? 1, 'run');
      return runHolding(this.acquireUnits('shared', weight, options, Semaphore.prototype.run), fn);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** This semaphore with `weight` permits, for `lockAll`. */
  weighted(weight = 1): LockSpec {
    return { lock: this, mode: 'shared', weight: this.checkWeight(weight, 'weighted') };
  }

  /** Permits free right now. */
  get available(): number {
    return this.capacity - this.units;
  }

  /** The semaphore's size. */
  get permits(): number {
    return this.capacity;
  }

  private checkWeight(weight: number, method: string): number {
    if (!Number.isSafeInteger(weight) || weight < 1 || weight > this.capacity) {
      throw new RangeError(`${this.label}.${method}(): weight must be an integer from 1 to ${this.capacity}, got ${String(weight)}`);
    }
    return weight;
  }
}
