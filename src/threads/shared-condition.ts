import { checkConditionWait, timeoutError } from '../discipline/engine.js';
import { currentContext } from '../discipline/flow.js';
import { state } from '../discipline/state.js';
import { isLockGuard, type Guard } from '../primitives/guard.js';
import { parseAcquireOptions, type AcquireOptions } from '../primitives/options.js';
import type { Arena } from './arena.js';
import { LockKind } from './arena-layout.js';
import { SLICE_MS } from './cycle-watch.js';
import { adoptShared, construct, createShared, takeAdopted, type SharedLockHandle } from './shared-handle.js';
import type { SharedLockCore } from './shared-lock-core.js';
import { SharedMutex, coreOfMutex, type SharedMutexHandle } from './shared-mutex.js';

/** Atomics.waitAsync (ES2024; Node 16+), typed here because the project's lib is ES2023. */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeout: number): { async: false; value: string } | { async: true; value: Promise<string> } }).waitAsync;

/** What crosses a thread boundary: post it to a worker, and `SharedCondition.from(handle)` there. */
export interface SharedConditionHandle extends SharedLockHandle<'SharedCondition'> {
  readonly mutex: SharedMutexHandle;
}

type Outcome = 'notified' | 'timeout' | 'aborted';

/**
 * The condition's words in the arena: a sequence number bumped by each notify (what waiters
 * sleep on), the number of waiters, and the wake-ups not yet taken (a notify grants one; each
 * woken waiter takes one by compare-and-swap, so `notify()` lets exactly one waiter go).
 */
class ConditionWords {
  readonly seq: number;
  readonly waiters: number;
  readonly wakeups: number;

  constructor(
    readonly arena: Arena,
    readonly lock: number,
  ) {
    this.seq = arena.futex(lock);
    this.waiters = arena.waiters(lock);
    this.wakeups = arena.writersWaiting(lock);
  }

  takeWakeup(): boolean {
    const words = this.arena.words;
    for (;;) {
      const left = Atomics.load(words, this.wakeups);
      if (left <= 0) return false;
      if (Atomics.compareExchange(words, this.wakeups, left, left - 1) === left) return true;
    }
  }

  notify(count: number): number {
    const words = this.arena.words;
    const waiting = Atomics.load(words, this.waiters);
    const pending = Atomics.load(words, this.wakeups);
    const granted = Math.max(0, Math.min(count, waiting - pending));
    if (granted === 0) return 0;
    Atomics.add(words, this.wakeups, granted);
    Atomics.add(words, this.seq, 1);
    Atomics.notify(words, this.seq);
    return granted;
  }

  leave(): void {
    // The last waiter out clears wake-ups nobody took (their waiters timed out or were aborted),
    // so that a later wait does not return without a notify.
    if (Atomics.sub(this.arena.words, this.waiters, 1) === 1) Atomics.store(this.arena.words, this.wakeups, 0);
  }
}

/**
 * A condition variable for a SharedMutex, across worker threads.
 *
 * - `wait` releases the mutex and joins the wait set in one step (a notify from any thread after
 *   it cannot be missed), then re-acquires the mutex before it returns or throws.
 * - `notify()` lets one waiter (in any thread) go, `notifyAll()` every waiter. A notify with
 *   nobody waiting is not remembered, and there is no fairness among waiters: wait in a loop on
 *   a predicate (`waitFor`).
 * - Timeout and abort end the wait with `LockTimeoutError` or `signal.reason`, after re-acquiring.
 * - Checked mode: waiting while holding any lock besides the mutex is a potential deadlock
 *   (`LockOrderError`, kind `condition-wait`), since a notifier may need that lock.
 *
 * @example
 * const mutex = new SharedMutex({ name: 'queue' });
 * const nonEmpty = new SharedCondition(mutex);
 * new Worker(file, { workerData: { nonEmpty: nonEmpty.handle } });
 * // consumer: await using guard = await mutex.lock();
 * //           await nonEmpty.waitFor(guard, () => queue.length > 0, { timeout: 5_000 });
 * // producer: await mutex.run(() => { queue.push(item); nonEmpty.notify(); });
 */
export class SharedCondition {
  readonly #mutex: SharedMutex;
  readonly #words: ConditionWords;

  constructor(mutex: SharedMutex) {
    const adopted = takeAdopted<ConditionWords>();
    if (!(mutex instanceof SharedMutex)) throw new TypeError('new SharedCondition(mutex) needs a deadbolt SharedMutex');
    this.#mutex = mutex;
    if (adopted !== null) {
      this.#words = adopted;
      return;
    }
    const core = coreOfMutex.get(mutex) as SharedLockCore;
    this.#words = createShared('SharedCondition', LockKind.Condition, undefined, (shared, lock) => new ConditionWords(shared, lock));
    this.#words.arena.setAux(this.#words.lock, core.lock);
  }

  /** Rebuilds a condition posted from another thread, with its mutex. */
  static from(handle: SharedConditionHandle): SharedCondition {
    const words = adoptShared(handle, 'SharedCondition', LockKind.Condition, (shared, lock) => new ConditionWords(shared, lock));
    const mutex = SharedMutex.from(handle.mutex);
    if (coreOfMutex.get(mutex)?.lock !== words.arena.auxOf(words.lock)) throw new TypeError("SharedCondition.from(handle): the handle's mutex is not the condition's own (a forged or corrupted handle)");
    return construct(words, () => new SharedCondition(mutex));
  }

  /** What to post to another thread; rebuild it there with `SharedCondition.from`. */
  get handle(): SharedConditionHandle {
    return { $deadbolt: 'SharedCondition', arena: this.#words.arena.buffer, lock: this.#words.lock, name: '', rank: undefined, mutex: this.#mutex.handle };
  }

  /** The mutex this condition belongs to. */
  get mutex(): SharedMutex {
    return this.#mutex;
  }

  /** Waiters in all threads. */
  get waiting(): number {
    return Atomics.load(this.#words.arena.words, this.#words.waiters);
  }

  /** Releases the mutex, waits for a notify from any thread, and re-acquires the mutex. */
  wait(guard: Guard, options?: AcquireOptions): Promise<void> {
    return this.#wait(guard, options, SharedCondition.prototype.wait);
  }

  /** Waits until `predicate()` is true, checking it under the mutex before each wait; the timeout bounds the whole call. */
  async waitFor(guard: Guard, predicate: () => boolean, options?: AcquireOptions): Promise<void> {
    const { timeout, signal } = parseAcquireOptions(options, 'SharedCondition.waitFor()');
    if (typeof predicate !== 'function') throw new TypeError('SharedCondition.waitFor(): predicate must be a function');
    const deadline = performance.now() + timeout;
    while (!predicate()) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw timeoutError(null, `condition of ${this.#mutex.label}`, timeout, [], this.waiting);
      await this.#wait(guard, { timeout: remaining, signal }, SharedCondition.prototype.waitFor, timeout);
    }
  }

  /** Lets one waiter (in any thread) go. Returns false if nobody was waiting. */
  notify(): boolean {
    return this.#words.notify(1) > 0;
  }

  /** Lets every current waiter go. Returns how many. */
  notifyAll(): number {
    return this.#words.notify(Number.MAX_SAFE_INTEGER);
  }

  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  async #wait(guard: Guard, options: AcquireOptions | undefined, caller: Function, reportedTimeout?: number): Promise<void> {
    const { timeout, signal } = parseAcquireOptions(options, 'SharedCondition.wait()');
    const core = coreOfMutex.get(this.#mutex) as SharedLockCore;
    if (!isLockGuard(guard) || guard.owner !== core) {
      throw new TypeError(`SharedCondition.wait() needs a held guard of the condition's own mutex (${this.#mutex.label})`);
    }
    if (state.config.checks && guard.record !== null) checkConditionWait(guard.record, currentContext(), caller);
    if (signal?.aborted) throw signal.reason;
    const words = this.#words;
    const seq = Atomics.load(words.arena.words, words.seq);
    Atomics.add(words.arena.words, words.waiters, 1);
    core.suspendShared(guard);
    let outcome: Outcome;
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      outcome = await this.#sleep(seq, performance.now() + timeout, signal);
    } finally {
      clearInterval(keepAlive);
      words.leave();
    }
    await core.reacquireShared(guard, undefined);
    if (outcome === 'timeout') throw timeoutError(guard.record, `condition of ${this.#mutex.label}`, reportedTimeout ?? timeout, [], this.waiting);
    if (outcome === 'aborted') throw (signal as AbortSignal).reason;
  }

  /** Sleeps on the sequence word in short slices (a pending waitAsync keeps nothing alive, and abort must be seen). */
  async #sleep(seq: number, deadline: number, signal: AbortSignal | undefined): Promise<Outcome> {
    const words = this.#words;
    let seen = seq;
    for (;;) {
      if (words.takeWakeup()) return 'notified';
      if (signal?.aborted) return 'aborted';
      const remaining = deadline - performance.now();
      if (remaining <= 0) return 'timeout';
      const result = waitAsync(words.arena.words, words.seq, seen, Math.min(SLICE_MS * 10, remaining));
      if (result.async) await result.value;
      seen = Atomics.load(words.arena.words, words.seq);
    }
  }
}
