import type { LockOptions } from '../discipline/lock-class.js';
import { runHolding, type Guard } from '../primitives/guard.js';
import type { AcquireOptions } from '../primitives/options.js';
import type { Arena } from './arena.js';
import { LockKind } from './arena-layout.js';
import { CountWord } from './count-word.js';
import { adoptShared, construct, createShared, handleOf, takeAdopted, type SharedLockHandle } from './shared-handle.js';
import { SharedLockCore } from './shared-lock-core.js';
import './worker-exits.js';

/** What crosses a thread boundary: post it to a worker, and `SharedRwLock.from(handle)` there. */
export type SharedRwLockHandle = SharedLockHandle<'SharedRwLock'>;

const makeCore = (shared: Arena, lock: number, options: LockOptions) => new SharedLockCore('SharedRwLock', shared, lock, options, Infinity, new CountWord(shared, lock, Infinity));

/**
 * A read-write lock shared by worker threads: many readers or one writer, in every thread at once.
 *
 * - Within a thread, flows queue FIFO (a queued writer holds back later readers, as RwLock does).
 *   Across threads it prefers writers: while a writer waits, new readers in any thread stay out,
 *   so readers cannot starve it. A flow that holds a read lock and asks for another while a
 *   writer waits deadlocks (checked mode reports it).
 * - Timeout and abort bound every wait; `readSync`/`writeSync` block the thread (Atomics.wait).
 * - Checked mode: ranks from the shared class table, per-flow order checks, and the cross-thread
 *   wait-for check. A cycle through read holds counts only when every reader on it is blocked.
 * - A thread that dies holding it: its hold is given back, and the next acquirer sees
 *   `ownerDied === true` until it releases.
 *
 * @example
 * const table = new SharedRwLock({ name: 'routes', rank: 20 });
 * new Worker(file, { workerData: { table: table.handle } });
 * await table.runRead(() => lookup(key));       // any number of threads at once
 * await table.runWrite(() => replaceRoutes());  // alone
 */
export class SharedRwLock {
  readonly #core: SharedLockCore;

  constructor(options?: LockOptions) {
    this.#core = takeAdopted<SharedLockCore>() ?? createShared('SharedRwLock', LockKind.RwLock, options, makeCore);
  }

  /** Rebuilds a lock posted from another thread (joining its arena if this thread has none). */
  static from(handle: SharedRwLockHandle): SharedRwLock {
    const core = adoptShared(handle, 'SharedRwLock', LockKind.RwLock, makeCore);
    return construct(core, () => new SharedRwLock());
  }

  /** What to post to another thread; rebuild it there with `SharedRwLock.from`. */
  get handle(): SharedRwLockHandle {
    return handleOf('SharedRwLock', this.#core.shared, this.#core.lock, this.#core.name, this.#core.rank);
  }

  /** For reports, e.g. `SharedRwLock "routes"`. */
  get label(): string {
    return this.#core.label;
  }

  /** True while this thread holds a guard taken over from a thread that died holding the lock. */
  get ownerDied(): boolean {
    return this.#core.ownerDied;
  }

  /** A shared hold. Waits behind this thread's queue, then while another thread writes or a writer waits. */
  read(options?: AcquireOptions): Promise<Guard> {
    return this.#core.acquire('shared', 1, options, SharedRwLock.prototype.read);
  }

  /** An exclusive hold: waits until no thread reads or writes. */
  write(options?: AcquireOptions): Promise<Guard> {
    return this.#core.acquire('exclusive', 1, options, SharedRwLock.prototype.write);
  }

  /** `read()` that blocks the thread (Atomics.wait); throws instead when this thread's own queue is in the way. */
  readSync(options?: { timeout?: number }): Guard {
    return this.#core.acquireSync('shared', 1, options, SharedRwLock.prototype.readSync, 'readSync');
  }

  /** `write()` that blocks the thread (Atomics.wait); throws instead when this thread holds or awaits the lock. */
  writeSync(options?: { timeout?: number }): Guard {
    return this.#core.acquireSync('exclusive', 1, options, SharedRwLock.prototype.writeSync, 'writeSync');
  }

  /** A read hold if one can be had at once, else null; never waits. */
  tryRead(): Guard | null {
    return this.#core.tryAcquire('shared', 1, SharedRwLock.prototype.tryRead);
  }

  /** A write hold if nobody anywhere holds the lock, else null; never waits. */
  tryWrite(): Guard | null {
    return this.#core.tryAcquire('exclusive', 1, SharedRwLock.prototype.tryWrite);
  }

  /** Runs `fn` under a read hold and releases it however `fn` ends. */
  runRead<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(this.read(options), fn);
  }

  /** Runs `fn` under the write hold and releases it however `fn` ends. */
  runWrite<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(this.write(options), fn);
  }
}
