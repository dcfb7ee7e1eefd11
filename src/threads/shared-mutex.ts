import { heldIn, type FlowContext } from '../discipline/acquisition.js';
import { cancel, checkGrantable, request } from '../discipline/engine.js';
import { currentContext } from '../discipline/flow.js';
import { validateLockOptions, type LockOptions } from '../discipline/lock-class.js';
import { state } from '../discipline/state.js';
import { FifoLock } from '../primitives/fifo-lock.js';
import { CheckedGuard, runHolding, type Guard, type HeldGuard } from '../primitives/guard.js';
import { parseAcquireOptions, type AcquireOptions } from '../primitives/options.js';
import { adoptArena, arena, type Arena } from './arena.js';
import { FutexWord, lockNames, watchQueuedWait } from './futex-word.js';
import './worker-exits.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Caller = Function;

/** What crosses a thread boundary: post it to a worker, and `SharedMutex.from(handle)` there. */
export interface SharedMutexHandle {
  readonly $deadbolt: 'SharedMutex';
  readonly arena: SharedArrayBuffer;
  readonly lock: number;
  readonly name: string;
  readonly rank: number | undefined;
}

/** @internal One shared mutex in one thread: the in-thread FIFO (the discipline's view) in front of the futex word. */
export class SharedMutexCore extends FifoLock {
  readonly word: FutexWord;

  constructor(
    readonly shared: Arena,
    readonly lock: number,
    options: LockOptions,
  ) {
    super('SharedMutex', options, 1);
    this.word = new FutexWord(shared, lock);
    lockNames.set(lock, this.label);
  }

  acquire(options: AcquireOptions | undefined, caller: Caller): Promise<Guard> {
    try {
      const { timeout, signal } = parseAcquireOptions(options, this, caller);
      if (signal?.aborted) return Promise.reject(signal.reason);
      const deadline = performance.now() + timeout;
      if (!state.config.checks) {
        if (this.queue.size === 0 && this.fits('exclusive', 1)) {
          const guard = this.tryAcquireUnits('exclusive', 1, caller) as HeldGuard;
          if (this.#tryWord(guard)) return Promise.resolve(guard);
          return this.#waitShared(guard, deadline, timeout, signal, []);
        }
        return this.acquireUnits('exclusive', 1, { timeout, signal }, caller).then((guard) => this.#waitShared(guard as HeldGuard, deadline, timeout, signal, []));
      }
      const ctx = currentContext();
      const acq = new CheckedGuard(this, 'exclusive', 1, null);
      request(acq, ctx, caller);
      if (acq.violation === null && this.queue.size === 0 && this.fits('exclusive', 1) && this.#tryWord(acq)) {
        return this.acquireRecord(acq, ctx, timeout, signal, caller, true);
      }
      const held = sharedHolds(ctx);
      const watch = held.length === 0 ? null : (onDeadlock: (error: unknown) => void) => watchQueuedWait(this.shared, this.lock, held, this.label, onDeadlock);
      return this.acquireTwoPhase(acq, ctx, timeout, signal, caller, watch, (guard) => this.#waitShared(guard, deadline, timeout, signal, held));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The guard that holds the futex word. The in-thread part is exclusive, so there is at most
   * one; a guard whose cross-thread wait failed holds only the in-thread part.
   */
  #wordHolder: object | null = null;

  #tryWord(guard: object): boolean {
    if (!this.word.tryAcquire()) return false;
    this.#wordHolder = guard;
    return true;
  }

  async #waitShared(guard: HeldGuard, deadline: number, timeout: number, signal: AbortSignal | undefined, held: readonly number[]): Promise<Guard> {
    try {
      await this.word.acquireAsync(deadline, timeout, signal, this.label, held);
    } catch (error) {
      guard.release();
      throw error;
    }
    this.#wordHolder = guard;
    return guard;
  }

  /** Blocks the thread. Refused if another flow of this thread holds or awaits the lock: it could never run to release it. */
  acquireSync(options: { timeout?: number } | undefined, caller: Caller): Guard {
    const timeout = options === undefined ? state.config.defaultTimeout : parseAcquireOptions(options, this, caller).timeout;
    if (state.config.checks) {
      // Order rules apply as to any request that may wait; the hold itself is recorded below.
      const probe = new CheckedGuard(this, 'exclusive', 1, null);
      request(probe, currentContext(), caller);
      // checkGrantable throws (and publishes on channels.lockOrder) a broken rule.
      checkGrantable(probe);
      cancel(probe);
    }
    const guard = this.tryAcquireUnits('exclusive', 1, caller) as HeldGuard | null;
    if (guard === null) {
      throw new Error(`${this.label}.lockSync(): another flow of this thread holds or awaits this lock; blocking the thread would keep it from ever releasing. Use await lock() here.`);
    }
    if (this.#tryWord(guard)) return guard;
    try {
      this.word.acquireSync(performance.now() + timeout, timeout, this.label, this.#threadHolds());
    } catch (error) {
      guard.release();
      throw error;
    }
    this.#wordHolder = guard;
    return guard;
  }

  /** While this thread blocks, everything it holds is blocked. */
  #threadHolds(): number[] {
    const held: number[] = [];
    for (const core of cores.values()) {
      const live = core.deref();
      if (live !== undefined && live !== this && live.units > 0) held.push(live.lock);
    }
    return held;
  }

  tryAcquire(caller: Caller): Guard | null {
    const guard = this.tryAcquireUnits('exclusive', 1, caller) as HeldGuard | null;
    if (guard === null) return null;
    if (this.#tryWord(guard)) return guard;
    guard.release();
    return null;
  }

  /** @internal The futex word is released first, so the next holder anywhere can take it. */
  override releaseGuard(guard: HeldGuard): void {
    if (this.#wordHolder === guard) {
      this.#wordHolder = null;
      this.word.release();
    }
    super.releaseGuard(guard);
  }
}

/** The shared locks a flow holds, published with its waits. */
function sharedHolds(ctx: FlowContext | null | undefined): number[] {
  const held: number[] = [];
  for (const acq of heldIn(ctx)) if (acq.lock instanceof SharedMutexCore) held.push(acq.lock.lock);
  return held;
}

const cores = new Map<number, WeakRef<SharedMutexCore>>();
/** The core `SharedMutex.from` hands to the constructor (private fields can only be set there). */
let adopting: SharedMutexCore | null = null;

function coreFor(shared: Arena, lock: number, options: LockOptions): SharedMutexCore {
  const existing = cores.get(lock)?.deref();
  if (existing !== undefined) return existing;
  const core = new SharedMutexCore(shared, lock, options);
  cores.set(lock, new WeakRef(core));
  return core;
}

/**
 * A mutex shared by worker threads through a SharedArrayBuffer, futex-style: compare-and-swap
 * when free, `Atomics.waitAsync` for `lock()`, `Atomics.wait` for `lockSync()`.
 *
 * - Within a thread, flows queue FIFO (and checked mode applies the core's rules per flow);
 *   across threads there is no fairness.
 * - Timeout and abort bound both waits. Post `mutex.handle` to a worker and rebuild it there
 *   with `SharedMutex.from(handle)`: all threads then share its rank and the wait-for table.
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
  readonly #core: SharedMutexCore;

  constructor(options?: LockOptions) {
    if (adopting !== null) {
      this.#core = adopting;
      adopting = null;
      return;
    }
    const { name, rank } = validateLockOptions('SharedMutex', options);
    const shared = arena();
    const lock = shared.allocateLock(rank);
    this.#core = coreFor(shared, lock, { name: name ?? `shared-mutex#${lock}`, rank });
  }

  /** Rebuilds a mutex posted from another thread (joining its arena if this thread has none). */
  static from(handle: SharedMutexHandle): SharedMutex {
    if (handle === null || typeof handle !== 'object' || handle.$deadbolt !== 'SharedMutex' || !(handle.arena instanceof SharedArrayBuffer)) {
      throw new TypeError('SharedMutex.from(handle): handle must be a SharedMutex handle (mutex.handle), received through postMessage or workerData');
    }
    const shared = adoptArena(handle.arena);
    if (!shared.isLock(handle.lock)) throw new TypeError(`SharedMutex.from(handle): lock ${String(handle.lock)} is not a lock of this arena (a forged or corrupted handle)`);
    adopting = coreFor(shared, handle.lock, { name: handle.name === '' ? undefined : handle.name, rank: shared.rankOf(handle.lock) });
    return new SharedMutex();
  }

  /** What to post to another thread (postMessage or workerData); rebuild it there with `SharedMutex.from`. */
  get handle(): SharedMutexHandle {
    return { $deadbolt: 'SharedMutex', arena: this.#core.shared.buffer, lock: this.#core.lock, name: this.#core.name ?? '', rank: this.#core.rank };
  }

  /** For reports, e.g. `SharedMutex "counter"`. */
  get label(): string {
    return this.#core.label;
  }

  /** True while this thread holds the lock it took over from a thread that died holding it. */
  get ownerDied(): boolean {
    return this.#core.word.ownerDied;
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
    return this.#core.acquire(options, SharedMutex.prototype.lock);
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
    return this.#core.acquireSync(options, SharedMutex.prototype.lockSync);
  }

  /** The lock if nobody in any thread holds it and no flow of this thread waits for it; never waits. */
  tryLock(): Guard | null {
    return this.#core.tryAcquire(SharedMutex.prototype.tryLock);
  }

  /** Runs `fn` holding the lock (taken with `lock()`) and releases it however `fn` ends. */
  run<T>(fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
    return runHolding(this.lock(options), fn);
  }
}
