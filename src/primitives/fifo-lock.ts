import { AcqState, type AcqMode, type Acquisition, type Blockers, type FlowContext, type TrackedLock } from '../discipline/acquisition.js';
import {
  cancel,
  heldBy,
  checkGrantable,
  classFor,
  enqueue,
  grant,
  perInstanceClass,
  release,
  request,
  resume,
  suspend,
  timeoutError,
  tryRequest,
} from '../discipline/engine.js';
import { attachToCurrentFlow, currentContext, tagNextPromise } from '../discipline/flow.js';
import { validateLockOptions, type LockClass, type LockOptions } from '../discipline/lock-class.js';
import { state } from '../discipline/state.js';
import { CheckedGuard, LockGuard, type Guard, type HeldGuard, type Releasable } from './guard.js';
import { parseAcquireOptions, type AcquireOptions } from './options.js';
import { Waiter, WaitQueue } from './wait-queue.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Caller = Function;

const NO_OPTIONS: { readonly timeout: number; readonly signal: undefined } = { timeout: Infinity, signal: undefined };

interface AbortWatch {
  readonly waiters: Set<Waiter>;
  readonly listener: () => void;
}

/**
 * The queue discipline shared by Mutex, RwLock and Semaphore: strict FIFO over units. An
 * exclusive request needs every unit free; a shared request of weight w needs no exclusive holder
 * and w units under `capacity`. A request is granted on arrival only if nobody is queued, and a
 * release grants from the head for as long as the head fits, so no request is overtaken: a queued
 * writer holds back later readers, and a heavy semaphore waiter is not starved by light ones.
 */
export abstract class FifoLock implements TrackedLock, Releasable {
  /** @internal Units held (1 per exclusive hold, the weight of each shared hold). */
  units = 0;
  /** @internal */
  exclusive = false;
  /** @internal */
  readonly queue = new WaitQueue();
  readonly instanceId: number;
  /** Class name given at construction, if any. */
  readonly name: string | undefined;
  readonly rank: number | undefined;
  #class: LockClass | null;
  /**
   * One abort listener per signal, shared by the waiters that pass it: removing an EventTarget
   * listener costs O(listeners), so 100k waiters on one signal with a listener each would make
   * their clean-up quadratic.
   */
  #aborts: Map<AbortSignal, AbortWatch> | null = null;

  protected constructor(
    protected readonly kind: string,
    options: LockOptions | undefined,
    /** @internal */ readonly capacity: number,
  ) {
    const { name, rank } = validateLockOptions(kind, options);
    this.name = name;
    this.rank = rank;
    this.instanceId = state.nextId++;
    this.#class = classFor({ name, rank }, new.target);
  }

  /** @internal */
  get lockClass(): LockClass {
    return (this.#class ??= perInstanceClass(this.kind, this.instanceId, this.rank));
  }

  /** For reports: `Mutex "coffer"`, or the construction site for an unnamed lock. */
  get label(): string {
    if (this.name !== undefined) return `${this.kind} "${this.name}"`;
    // Naming an unnamed fast-mode lock must not register a class: the registry keeps classes.
    return this.#class !== null ? `${this.kind} ${this.#class.name}` : `${this.kind} #${this.instanceId}`;
  }

  /** @internal */
  fits(mode: AcqMode, weight: number): boolean {
    return mode === 'exclusive' ? this.units === 0 : !this.exclusive && this.units + weight <= this.capacity;
  }

  private take(mode: AcqMode, weight: number): void {
    this.units += weight;
    if (mode === 'exclusive') this.exclusive = true;
  }

  /** @internal Acquires for the calling flow; rejects (never throws) on bad input and errors. */
  acquireUnits(mode: AcqMode, weight: number, options: AcquireOptions | undefined, caller: Caller): Promise<Guard> {
    try {
      const { timeout, signal } = options === undefined && state.config.defaultTimeout === Infinity ? NO_OPTIONS : parseAcquireOptions(options, this, caller);
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (!state.config.checks) {
        if (this.queue.size === 0 && this.fits(mode, weight)) {
          this.take(mode, weight);
          return Promise.resolve(new LockGuard(this, mode, weight));
        }
        if (timeout === 0) throw timeoutError(null, this.label, 0, [], this.queue.size);
        return this.wait(new Waiter(mode, weight, null), timeout, signal, null);
      }
      const ctx = currentContext();
      const acq = new CheckedGuard(this, mode, weight, null);
      request(acq, ctx, caller);
      return this.acquireRecord(acq, ctx, timeout, signal, caller, true);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * @internal Checked path for a request the engine already opened; the record is the guard it
   * resolves to (a Condition.wait passes its suspended guard back in). `tag` marks the returned
   * promise as the carrier of the acquisition (off for lockAll, which carries its own). Throws
   * synchronously on refusal.
   */
  acquireRecord(
    acq: CheckedGuard,
    ctx: FlowContext | null | undefined,
    timeout: number,
    signal: AbortSignal | undefined,
    caller: Caller | undefined,
    tag: boolean,
  ): Promise<CheckedGuard> {
    if (this.queue.size === 0 && this.fits(acq.mode, acq.weight)) {
      checkGrantable(acq);
      this.take(acq.mode, acq.weight);
      grant(acq);
      acq.owner = this;
      if (tag) tagNextPromise(acq);
      return Promise.resolve(acq);
    }
    if (timeout === 0) {
      checkGrantable(acq);
      cancel(acq);
      throw timeoutError(acq, this.label, 0, this.holderList(), this.queue.size);
    }
    enqueue(acq, ctx, caller);
    return this.wait(new Waiter(acq.mode, acq.weight, acq), timeout, signal, tag ? acq : null) as Promise<CheckedGuard>;
  }

  /**
   * @internal The checked path of a two-phase lock (FileLock, SharedMutex): this in-process
   * queue, then `outer(guard)`, the wait beyond the process or thread. The returned promise
   * carries the acquisition for the caller's flow. While the request is queued here, `watch` (if
   * given: the flow holds locks of the same scope) publishes it to the other processes or
   * threads, since it is as blocked as a wait in the outer phase; a deadlock it reports ends the
   * queued wait.
   */
  acquireTwoPhase(
    acq: CheckedGuard,
    ctx: FlowContext | null | undefined,
    timeout: number,
    signal: AbortSignal | undefined,
    caller: Caller,
    watch: ((onDeadlock: (error: unknown) => void) => () => void) | null,
    outer: (guard: CheckedGuard) => Promise<Guard>,
  ): Promise<Guard> {
    tagNextPromise(acq);
    let settle!: { resolve: (guard: Guard) => void; reject: (error: unknown) => void };
    const result = new Promise<Guard>((resolve, reject) => {
      settle = { resolve, reject };
    });
    void (async () => {
      let stopWatch: (() => void) | null = null;
      try {
        let local: Promise<CheckedGuard>;
        if (watch === null) {
          local = this.acquireRecord(acq, ctx, timeout, signal, caller, false);
        } else {
          const victim = new AbortController();
          local = this.acquireRecord(acq, ctx, timeout, signal === undefined ? victim.signal : AbortSignal.any([signal, victim.signal]), caller, false);
          if (acq.state === AcqState.Waiting) stopWatch = watch((error) => victim.abort(error));
        }
        const guard = await local;
        stopWatch?.();
        stopWatch = null;
        settle.resolve(await outer(guard));
      } catch (error) {
        stopWatch?.();
        settle.reject(error);
      }
    })();
    return result;
  }

  private wait(waiter: Waiter, timeout: number, signal: AbortSignal | undefined, carried: Acquisition | null): Promise<HeldGuard> {
    if (carried !== null) tagNextPromise(carried);
    const promise = new Promise<HeldGuard>((resolve, reject) => {
      waiter.resolve = resolve as (value: never) => void;
      waiter.reject = reject;
    });
    this.queue.push(waiter);
    if (timeout !== Infinity) waiter.timer = setTimeout(() => this.abandon(waiter, null, timeout), timeout);
    if (signal !== undefined) this.watchSignal(waiter, signal);
    return promise;
  }

  private watchSignal(waiter: Waiter, signal: AbortSignal): void {
    this.#aborts ??= new Map();
    let watch = this.#aborts.get(signal);
    if (watch === undefined) {
      const waiters = new Set<Waiter>();
      const listener = (): void => {
        this.#aborts?.delete(signal);
        // Reject every waiter that passed this signal before letting anyone in: draining after
        // each one could grant a later waiter whose wait was aborted too.
        for (const aborted of waiters) {
          aborted.signal = undefined;
          this.abandon(aborted, signal, 0, false);
        }
        this.drain();
      };
      watch = { waiters, listener };
      this.#aborts.set(signal, watch);
      signal.addEventListener('abort', listener, { once: true });
    }
    watch.waiters.add(waiter);
    waiter.signal = signal;
  }

  /** Clears a settled waiter's timer and abort registration. */
  private disarm(waiter: Waiter): void {
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.timer = undefined;
    const signal = waiter.signal;
    if (signal === undefined) return;
    waiter.signal = undefined;
    const watch = this.#aborts?.get(signal);
    if (watch === undefined) return;
    watch.waiters.delete(waiter);
    if (watch.waiters.size === 0) {
      this.#aborts?.delete(signal);
      signal.removeEventListener('abort', watch.listener);
    }
  }

  /** A waiter timed out or was aborted: unlink it, and let those behind it in if they now fit. */
  private abandon(waiter: Waiter, signal: AbortSignal | null, timeout: number, drain = true): void {
    if (!waiter.queued) return;
    this.queue.remove(waiter);
    this.disarm(waiter);
    if (waiter.record !== null) cancel(waiter.record);
    const reason = signal !== null ? signal.reason : timeoutError(waiter.record, this.label, timeout, this.holderList(), this.queue.size);
    waiter.reject(reason);
    if (drain) this.drain();
  }

  /** @internal Grants from the head of the queue for as long as the head fits. */
  drain(): void {
    for (let waiter = this.queue.head; waiter !== null && this.fits(waiter.mode, waiter.weight); waiter = this.queue.head) {
      this.queue.remove(waiter);
      this.disarm(waiter);
      this.take(waiter.mode, waiter.weight);
      const record = waiter.record;
      if (record !== null) grant(record);
      const guard: HeldGuard = record ?? waiter.guard ?? new LockGuard(this, waiter.mode, waiter.weight);
      guard.owner = this;
      waiter.resolve(guard as never);
    }
  }

  /** @internal Tracked holders (checked mode), found in the engine's list of held acquisitions. */
  holderList(): Acquisition[] {
    return heldBy(this);
  }

  /** @internal Synchronous and never queues. Checked mode records the hold for the running flow. */
  tryAcquireUnits(mode: AcqMode, weight: number, caller: Caller): Guard | null {
    if (this.queue.size !== 0 || !this.fits(mode, weight)) return null;
    this.take(mode, weight);
    if (!state.config.checks) return new LockGuard(this, mode, weight);
    const acq = new CheckedGuard(this, mode, weight, null);
    tryRequest(acq, caller);
    grant(acq);
    acq.owner = this;
    attachToCurrentFlow(acq);
    return acq;
  }

  /** @internal */
  releaseGuard(guard: HeldGuard): void {
    this.units -= guard.weight;
    if (guard.mode === 'exclusive') this.exclusive = false;
    const record = guard.record;
    if (record !== null && record.state === AcqState.Held) {
      release(record);
    }
    if (this.queue.size !== 0) this.drain();
  }

  /** @internal Gives the units of a held guard up for a Condition.wait, keeping the guard. */
  suspendGuard(guard: HeldGuard): void {
    guard.owner = null;
    this.units -= guard.weight;
    if (guard.mode === 'exclusive') this.exclusive = false;
    if (guard.record !== null) {
      suspend(guard.record);
    }
    if (this.queue.size !== 0) this.drain();
  }

  /** @internal Takes a suspended guard's units back (no timeout: the caller must hold it again). */
  reacquireGuard(guard: HeldGuard, caller: Caller | undefined): Promise<HeldGuard> {
    const record = guard.record;
    if (record === null || !state.config.checks) {
      if (this.queue.size === 0 && this.fits(guard.mode, guard.weight)) {
        this.take(guard.mode, guard.weight);
        guard.owner = this;
        return Promise.resolve(guard);
      }
      const waiter = new Waiter(guard.mode, guard.weight, null);
      waiter.guard = guard;
      return this.wait(waiter, Infinity, undefined, null);
    }
    resume(record);
    return this.acquireRecord(record, currentContext(), Infinity, undefined, caller, false);
  }

  /** @internal The wait-for graph's view of a request on this lock. */
  blockers(request: Acquisition): Blockers {
    const ahead: Acquisition[] = [];
    for (let waiter = this.queue.head; waiter !== null && waiter.record !== request; waiter = waiter.next) {
      if (waiter.record !== null) ahead.push(waiter.record);
    }
    const holders = this.holderList();
    let tracked = 0;
    for (const holder of holders) tracked += holder.weight;
    const required = request.mode === 'exclusive' || this.exclusive ? this.units : this.units + request.weight - this.capacity;
    return { holders, untracked: this.units - tracked, ahead, required };
  }

  /** Number of queued requests. */
  get waiting(): number {
    return this.queue.size;
  }
}
