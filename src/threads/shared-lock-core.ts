import { heldIn, type AcqMode, type FlowContext } from '../discipline/acquisition.js';
import { cancel, checkGrantable, request } from '../discipline/engine.js';
import { currentContext } from '../discipline/flow.js';
import type { LockOptions } from '../discipline/lock-class.js';
import { state } from '../discipline/state.js';
import { FifoLock } from '../primitives/fifo-lock.js';
import { CheckedGuard, type Guard, type HeldGuard } from '../primitives/guard.js';
import { parseAcquireOptions, type AcquireOptions } from '../primitives/options.js';
import type { Arena } from './arena.js';
import type { CrossWord } from './cross-word.js';
import { watchQueuedWait } from './cycle-watch.js';
import { threadsState } from './threads-state.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Caller = Function;

/** Marks a shared lock's core, across module copies (an ESM and a CJS copy share one arena). */
const SHARED_LOCK = Symbol.for('deadbolt.threads.sharedLock');

/**
 * @internal One shared lock in one thread: the in-thread FIFO (the discipline's view: ranks,
 * order, per-flow held sets) in front of the cross-thread word. Each in-thread guard also holds
 * its share of the word; a guard whose cross-thread wait failed holds only the in-thread part.
 */
export class SharedLockCore extends FifoLock {
  readonly [SHARED_LOCK] = true;
  /** The guard holding the word (a mutex has at most one; a mutex's hot path needs no Set). */
  #first: object | null = null;
  /** Further guards holding a share of the word (semaphores, read locks). */
  #more: Set<object> | null = null;
  /** The guard whose acquisition took over what a dead thread held, until it is released. */
  #diedGuard: object | null = null;

  constructor(
    kind: string,
    readonly shared: Arena,
    readonly lock: number,
    options: LockOptions,
    capacity: number,
    readonly word: CrossWord,
  ) {
    super(kind, options, capacity);
  }

  /** True while this thread holds a guard that took the lock (or its units) over from a dead thread. */
  get ownerDied(): boolean {
    return this.#diedGuard !== null;
  }

  /** How many of this thread's guards hold a share of the word. */
  get crossHolds(): number {
    return (this.#first === null ? 0 : 1) + (this.#more?.size ?? 0);
  }

  #took(guard: object): void {
    if (this.#first === null) this.#first = guard;
    else (this.#more ??= new Set()).add(guard);
    if (this.word.tookOverFromDead) {
      this.word.tookOverFromDead = false;
      this.#diedGuard = guard;
    }
  }

  #gave(guard: object): boolean {
    if (this.#first === guard) this.#first = null;
    else if (this.#more === null || !this.#more.delete(guard)) return false;
    if (this.#diedGuard === guard) this.#diedGuard = null;
    return true;
  }

  #tryWord(guard: HeldGuard): boolean {
    if (!this.word.tryAcquire(guard.mode, guard.weight)) return false;
    this.#took(guard);
    return true;
  }

  acquire(mode: AcqMode, weight: number, options: AcquireOptions | undefined, caller: Caller): Promise<Guard> {
    try {
      const { timeout, signal } = parseAcquireOptions(options, this, caller);
      if (signal?.aborted) return Promise.reject(signal.reason);
      // The deadline is read only on the paths that may wait: a clock read costs as much as the CAS.
      if (!state.config.checks) {
        if (this.queue.size === 0 && this.fits(mode, weight)) {
          const guard = this.tryAcquireUnits(mode, weight, caller) as HeldGuard;
          if (this.#tryWord(guard)) return Promise.resolve(guard);
          return this.#waitShared(guard, performance.now() + timeout, timeout, signal, []);
        }
        const deadline = performance.now() + timeout;
        return this.acquireUnits(mode, weight, { timeout, signal }, caller).then((guard) => this.#waitShared(guard as HeldGuard, deadline, timeout, signal, []));
      }
      const ctx = currentContext();
      const acq = new CheckedGuard(this, mode, weight, null);
      request(acq, ctx, caller);
      if (acq.violation === null && this.queue.size === 0 && this.fits(mode, weight) && this.word.tryAcquire(mode, weight)) {
        this.#took(acq);
        return this.acquireRecord(acq, ctx, timeout, signal, caller, true);
      }
      const deadline = performance.now() + timeout;
      const held = sharedHolds(ctx);
      const watch = held.length === 0 ? null : (onDeadlock: (error: unknown) => void) => watchQueuedWait(this.shared, this.lock, held, this.label, onDeadlock);
      return this.acquireTwoPhase(acq, ctx, timeout, signal, caller, watch, (guard) => this.#waitShared(guard, deadline, timeout, signal, held));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #waitShared(guard: HeldGuard, deadline: number, timeout: number, signal: AbortSignal | undefined, held: readonly number[]): Promise<Guard> {
    try {
      await this.word.acquireAsync(guard.mode, guard.weight, deadline, timeout, signal, this.label, held);
    } catch (error) {
      guard.release();
      throw error;
    }
    this.#took(guard);
    return guard;
  }

  /** Blocks the thread. Refused if another flow of this thread holds or awaits the lock in a conflicting way: it could never run to release it. */
  acquireSync(mode: AcqMode, weight: number, options: { timeout?: number } | undefined, caller: Caller, method: string): Guard {
    const timeout = options === undefined ? state.config.defaultTimeout : parseAcquireOptions(options, this, caller).timeout;
    if (state.config.checks) {
      // Order rules apply as to any request that may wait; the hold itself is recorded below.
      const probe = new CheckedGuard(this, mode, weight, null);
      request(probe, currentContext(), caller);
      // checkGrantable throws (and publishes on channels.lockOrder) a broken rule.
      checkGrantable(probe);
      cancel(probe);
    }
    const guard = this.tryAcquireUnits(mode, weight, caller) as HeldGuard | null;
    if (guard === null) {
      throw new Error(`${this.label}.${method}(): another flow of this thread holds or awaits this lock; blocking the thread would keep it from ever releasing. Use the async method here.`);
    }
    if (this.#tryWord(guard)) return guard;
    try {
      this.word.acquireSync(mode, weight, performance.now() + timeout, timeout, this.label, threadHolds());
    } catch (error) {
      guard.release();
      throw error;
    }
    this.#took(guard);
    return guard;
  }

  /** The word first: a failed try then costs one compare-and-swap, not a guard made and released (a checked record, in checked mode). */
  tryAcquire(mode: AcqMode, weight: number, caller: Caller): Guard | null {
    if (this.queue.size !== 0 || !this.fits(mode, weight) || !this.word.tryAcquire(mode, weight)) return null;
    let guard: HeldGuard;
    try {
      // Cannot refuse now: nothing is queued and the units fit.
      guard = this.tryAcquireUnits(mode, weight, caller) as HeldGuard;
    } catch (error) {
      this.word.tookOverFromDead = false;
      this.word.release(mode, weight);
      throw error;
    }
    this.#took(guard);
    return guard;
  }

  /** @internal The word is released first, so the next holder anywhere can take it. */
  override releaseGuard(guard: HeldGuard): void {
    if (this.#gave(guard)) this.word.release(guard.mode, guard.weight);
    super.releaseGuard(guard);
  }

  /** @internal For a condition wait: gives the word and the in-thread hold up, keeping the guard. */
  suspendShared(guard: HeldGuard): void {
    if (this.#gave(guard)) this.word.release(guard.mode, guard.weight);
    this.suspendGuard(guard);
  }

  /** @internal Takes a suspended guard back, in this thread and then across threads (no timeout: the caller must hold it again). */
  async reacquireShared(guard: HeldGuard, caller: Caller | undefined): Promise<void> {
    await this.reacquireGuard(guard, caller);
    if (this.#tryWord(guard)) return;
    await this.word.acquireAsync(guard.mode, guard.weight, Infinity, Infinity, undefined, this.label, sharedHolds(currentContext()));
    this.#took(guard);
  }
}

/** Whether `lock` is a shared lock's core (from any copy of this module). */
export function isSharedLockCore(lock: unknown): lock is SharedLockCore {
  return typeof lock === 'object' && lock !== null && (lock as { [SHARED_LOCK]?: boolean })[SHARED_LOCK] === true;
}

/** The shared locks a flow holds (once per guard), published with its waits. */
export function sharedHolds(ctx: FlowContext | null | undefined): number[] {
  const held: number[] = [];
  for (const acq of heldIn(ctx)) if (isSharedLockCore(acq.lock)) held.push(acq.lock.lock);
  return held;
}

/** This thread's shared lock cores that hold a share of their word (in fast mode too). */
export function* heldSharedCores(): Generator<SharedLockCore> {
  for (const ref of threadsState.cores.values()) {
    const core = ref.deref();
    // The map also holds conditions' words, which are no locks.
    if (isSharedLockCore(core) && core.crossHolds > 0) yield core;
  }
}

/**
 * While this thread blocks, everything it holds is blocked (once per guard holding a share),
 * including earlier read or permit guards of the lock it blocks on.
 */
function threadHolds(): number[] {
  const held: number[] = [];
  for (const core of heldSharedCores()) for (let i = core.crossHolds; i > 0; i--) held.push(core.lock);
  return held;
}
