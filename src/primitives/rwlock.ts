import type { LockOptions } from '../discipline/lock-class.js';
import { FifoLock } from './fifo-lock.js';
import { runHolding, type Guard } from './guard.js';
import type { LockSpec } from './lock-spec.js';
import type { AcquireOptions } from './options.js';

/**
 * A reader/writer lock, writer-preferring FIFO: readers share the lock, a writer has it alone,
 * and a queued writer holds back every reader that arrives after it. Consecutive readers at the
 * head of the queue are let in together. Neither side starves.
 *
 * - Timeout and abort reject the waiter and unlink it; readers queued behind an abandoned writer
 *   are let in at once.
 * - Checked mode: as `Mutex`. Taking a read lock twice in one flow is a `LockOrderError`
 *   (recursive read deadlocks as soon as a writer queues between), and upgrading a read to a
 *   write in one flow is a `DeadlockError`.
 *
 * @example
 * const registry = new RwLock({ name: 'registry', rank: 20 });
 * const names = await registry.runRead(() => [...entries.keys()]);
 * await registry.runWrite(() => entries.set('a', 1));
 */
export class RwLock extends FifoLock {
  constructor(options?: LockOptions) {
    super('RwLock', options, Infinity);
  }

  /** Waits for a shared (read) hold. */
  read(options?: AcquireOptions): Promise<Guard> {
    return this.acquireUnits('shared', 1, options, RwLock.prototype.read);
  }

  /** Waits for the exclusive (write) hold. */
  write(options?: AcquireOptions): Promise<Guard> {
    return this.acquireUnits('exclusive', 1, options, RwLock.prototype.write);
  }

  /** A read hold if no writer holds or waits; never queues. */
  tryRead(): Guard | null {
    return this.tryAcquireUnits('shared', 1, RwLock.prototype.tryRead);
  }

  /** The write hold if nobody holds or waits; never queues. */
  tryWrite(): Guard | null {
    return this.tryAcquireUnits('exclusive', 1, RwLock.prototype.tryWrite);
  }

  /** Runs `fn` under a read hold and returns its result. */
  runRead<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(this.acquireUnits('shared', 1, options, RwLock.prototype.runRead), fn);
  }

  /** Runs `fn` under the write hold and returns its result. */
  runWrite<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(this.acquireUnits('exclusive', 1, options, RwLock.prototype.runWrite), fn);
  }

  /** This lock in read mode, for `lockAll`. */
  get reader(): LockSpec {
    return { lock: this, mode: 'shared', weight: 1 };
  }

  /** This lock in write mode, for `lockAll` (passing the RwLock itself means the same). */
  get writer(): LockSpec {
    return { lock: this, mode: 'exclusive', weight: 1 };
  }

  /** Number of read holds. */
  get readers(): number {
    return this.exclusive ? 0 : this.units;
  }

  /** True while a writer holds the lock. */
  get isWriteLocked(): boolean {
    return this.exclusive;
  }
}
