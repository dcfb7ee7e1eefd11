import { checkConditionWait, timeoutError } from '../discipline/engine.js';
import { currentContext } from '../discipline/flow.js';
import { state } from '../discipline/state.js';
import { isLockGuard, type Guard } from '../primitives/guard.js';
import { waitUntil } from '../primitives/condition.js';
import { parseAcquireOptions, type AcquireOptions } from '../primitives/options.js';
import type { Arena } from './arena.js';
import { LockKind } from './arena-layout.js';
import { waitAsync } from './cross-word.js';
import { SLICE_MS } from './cycle-watch.js';
import { adoptShared, construct, createShared, takeAdopted, type SharedLockHandle } from './shared-handle.js';
import type { SharedLockCore } from './shared-lock-core.js';
import { SharedMutex, coreOfMutex, type SharedMutexHandle } from './shared-mutex.js';

/** What crosses a thread boundary: post it to a worker, and `SharedCondition.from(handle)` there. */
export interface SharedConditionHandle extends SharedLockHandle<'SharedCondition'> {
  readonly mutex: SharedMutexHandle;
}

type Outcome = 'notified' | 'timeout' | 'aborted';

/** Waiters per condition: they share one word with the wake-ups (16 bits each). */
const MAX_WAITERS = 0xffff;
const WAKEUP = 1 << 16;

/**
 * The condition's words in the arena: a sequence number bumped by each notify (what waiters
 * sleep on), and one word packing the number of waiters (low 16 bits) with the wake-ups granted
 * and not yet taken (high bits). Both counts change together, in one compare-and-swap, so a
 * notify never grants more wake-ups than there are waiters, and a waiter that leaves cannot drop
 * a wake-up granted to the others.
 */
class ConditionWords {
  readonly seq: number;
  readonly counts: number;

  constructor(
    readonly arena: Arena,
    readonly lock: number,
  ) {
    this.seq = arena.futex(lock);
    this.counts = arena.waiters(lock);
  }

  /** Joins the waiters; returns the sequence number a wake-up must be newer than. */
  join(where: string): number {
    const words = this.arena.words;
    // Read before joining: a notify between the two grants nothing to this waiter, so it is not
    // lost to it; one after joining bumps the sequence, so this waiter may take its wake-up.
    const seq = Atomics.load(words, this.seq);
    for (;;) {
      const counts = Atomics.load(words, this.counts);
      if ((counts & MAX_WAITERS) === MAX_WAITERS) throw new RangeError(`${where}: more than ${MAX_WAITERS} waiters on one condition`);
      if (Atomics.compareExchange(words, this.counts, counts, counts + 1) === counts) return seq;
    }
  }

  /** Takes a wake-up granted since `since` and leaves the waiters; false if there is none. */
  takeWakeup(since: number): boolean {
    const words = this.arena.words;
    if (Atomics.load(words, this.seq) === since) return false;
    for (;;) {
      const counts = Atomics.load(words, this.counts);
      if (counts < WAKEUP) return false;
      if (Atomics.compareExchange(words, this.counts, counts, counts - WAKEUP - 1) === counts) return true;
    }
  }

  /** Leaves the waiters without a wake-up (timeout, abort); wake-ups beyond the waiters left are dropped. */
  leave(): void {
    const words = this.arena.words;
    for (;;) {
      const counts = Atomics.load(words, this.counts);
      const waiters = (counts & MAX_WAITERS) - 1;
      const next = Math.min(counts >>> 16, waiters) * WAKEUP + waiters;
      if (Atomics.compareExchange(words, this.counts, counts, next) === counts) return;
    }
  }

  /** Grants up to `count` wake-ups (never more than waiters without one); returns how many. */
  notify(count: number): number {
    const words = this.arena.words;
    for (;;) {
      const counts = Atomics.load(words, this.counts);
      const granted = Math.min(count, (counts & MAX_WAITERS) - (counts >>> 16));
      if (granted <= 0) return 0;
      if (Atomics.compareExchange(words, this.counts, counts, counts + granted * WAKEUP) !== counts) continue;
      Atomics.add(words, this.seq, 1);
      Atomics.notify(words, this.seq);
      return granted;
    }
  }

  get waiting(): number {
    return Atomics.load(this.arena.words, this.counts) & MAX_WAITERS;
  }
}

/**
 * A condition variable for a SharedMutex, across worker threads.
 *
 * - `wait` releases the mutex and joins the wait set in one step (a notify from any thread after
 *   it cannot be missed), then re-acquires the mutex before it returns or throws.
 * - `notify()` lets one waiter (in any thread) go, `notifyAll()` every waiter. A notify with
 *   nobody waiting is not remembered, and there is no fairness among waiters: wait in a loop on
 *   a predicate (`waitFor`). At most 65,535 flows wait on one condition at a time.
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
    return this.#words.waiting;
  }

  /** Releases the mutex, waits for a notify from any thread, and re-acquires the mutex. */
  wait(guard: Guard, options?: AcquireOptions): Promise<void> {
    return this.#wait(guard, options, SharedCondition.prototype.wait);
  }

  /** Waits until `predicate()` is true, checking it under the mutex before each wait; the timeout bounds the whole call. */
  waitFor(guard: Guard, predicate: () => boolean, options?: AcquireOptions): Promise<void> {
    return waitUntil('SharedCondition.waitFor()', predicate, options, `condition of ${this.#mutex.label}`, () => this.waiting, (once, timeout) =>
      this.#wait(guard, once, SharedCondition.prototype.waitFor, timeout),
    );
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
    const since = words.join('SharedCondition.wait()');
    core.suspendShared(guard);
    let outcome: Outcome = 'timeout';
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      outcome = await this.#sleep(since, performance.now() + timeout, signal);
    } finally {
      clearInterval(keepAlive);
      if (outcome !== 'notified') words.leave();
    }
    await core.reacquireShared(guard, undefined);
    if (outcome === 'timeout') throw timeoutError(guard.record, `condition of ${this.#mutex.label}`, reportedTimeout ?? timeout, [], this.waiting);
    if (outcome === 'aborted') throw (signal as AbortSignal).reason;
  }

  /** Sleeps on the sequence word in short slices (a pending waitAsync keeps nothing alive, and abort must be seen). */
  async #sleep(since: number, deadline: number, signal: AbortSignal | undefined): Promise<Outcome> {
    const words = this.#words;
    for (;;) {
      // Read before checking: a notify after this changes the word, so the wait below returns at once.
      const seen = Atomics.load(words.arena.words, words.seq);
      if (words.takeWakeup(since)) return 'notified';
      if (signal?.aborted) return 'aborted';
      const remaining = deadline - performance.now();
      if (remaining <= 0) return 'timeout';
      const result = waitAsync(words.arena.words, words.seq, seen, Math.min(SLICE_MS * 10, remaining));
      if (result.async) await result.value;
    }
  }
}
