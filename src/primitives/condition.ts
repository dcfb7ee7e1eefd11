import { checkConditionWait, timeoutError } from '../discipline/engine.js';
import { currentContext } from '../discipline/flow.js';
import { state } from '../discipline/state.js';
import { isLockGuard, type Guard } from './guard.js';
import { Mutex } from './mutex.js';
import { parseAcquireOptions, type AcquireOptions } from './options.js';

type Outcome = 'notified' | 'timeout' | 'aborted';

/**
 * A condition variable bound to one Mutex.
 *
 * - `wait` releases the mutex and joins the wait set in one step (no notify can fall between),
 *   then re-acquires the mutex before it returns or throws, so the caller's guard is held again.
 * - Fairness: `notify` wakes the longest waiter; woken waiters queue for the mutex in FIFO order.
 *   A notify with nobody waiting is not remembered, so wait in a loop on a predicate: `waitFor`.
 * - Timeout and abort end the wait with `LockTimeoutError` or `signal.reason`, after re-acquiring.
 * - Checked mode: waiting while holding any lock besides this mutex is a potential deadlock
 *   (`LockOrderError`, kind `condition-wait`), since a notifier may need that lock.
 *
 * @example
 * const mutex = new Mutex({ name: 'queue' });
 * const nonEmpty = new Condition(mutex);
 * await using guard = await mutex.lock();
 * await nonEmpty.waitFor(guard, () => items.length > 0, { timeout: 5_000 });
 */
export class Condition {
  readonly #mutex: Mutex;
  readonly #waiters = new Set<(outcome: Outcome) => void>();

  constructor(mutex: Mutex) {
    if (!(mutex instanceof Mutex)) throw new TypeError('new Condition(mutex) needs a deadbolt Mutex');
    this.#mutex = mutex;
  }

  /** Releases the mutex, waits for a notify, and re-acquires the mutex. */
  wait(guard: Guard, options?: AcquireOptions): Promise<void> {
    return this.#wait(guard, options, Condition.prototype.wait);
  }

  /**
   * Waits until `predicate()` is true, checking it under the mutex before each wait. The timeout
   * bounds the whole call.
   */
  waitFor(guard: Guard, predicate: () => boolean, options?: AcquireOptions): Promise<void> {
    return waitUntil('Condition.waitFor()', predicate, options, `condition of ${this.#mutex.label}`, () => this.#waiters.size, (once, timeout) =>
      this.#wait(guard, once, Condition.prototype.waitFor, timeout),
    );
  }

  /** Wakes the longest waiter. Returns false if nobody was waiting. */
  notify(): boolean {
    for (const wake of this.#waiters) {
      this.#waiters.delete(wake);
      wake('notified');
      return true;
    }
    return false;
  }

  /** Wakes every waiter. Returns how many were woken. */
  notifyAll(): number {
    const woken = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of woken) wake('notified');
    return woken.length;
  }

  /** Number of flows waiting to be notified. */
  get waiting(): number {
    return this.#waiters.size;
  }

  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  async #wait(guard: Guard, options: AcquireOptions | undefined, caller: Function, reportedTimeout?: number): Promise<void> {
    const { timeout, signal } = parseAcquireOptions(options, 'Condition.wait()');
    if (!isLockGuard(guard) || guard.owner !== this.#mutex) {
      throw new TypeError(`Condition.wait() needs a held guard of the condition's own mutex (${this.#mutex.label})`);
    }
    if (state.config.checks && guard.record !== null) checkConditionWait(guard.record, currentContext(), caller);
    if (signal?.aborted) throw signal.reason;
    const outcome = await new Promise<Outcome>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (result: Outcome): void => {
        if (!this.#waiters.delete(settle) && result !== 'notified') return;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = (): void => settle('aborted');
      this.#waiters.add(settle);
      if (timeout !== Infinity) timer = setTimeout(() => settle('timeout'), timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#mutex.suspendGuard(guard);
    });
    await this.#mutex.reacquireGuard(guard, undefined);
    if (outcome === 'timeout') throw timeoutError(guard.record, `condition of ${this.#mutex.label}`, reportedTimeout ?? timeout, [], this.#waiters.size);
    if (outcome === 'aborted') throw (signal as AbortSignal).reason;
  }
}

/**
 * @internal The loop behind `waitFor` (Condition and SharedCondition): checks `predicate` under
 * the mutex, and waits once more while it is false; one timeout bounds the whole call, and each
 * wait is told the timeout to report.
 */
export async function waitUntil(
  where: string,
  predicate: () => boolean,
  options: AcquireOptions | undefined,
  label: string,
  waiting: () => number,
  waitOnce: (options: AcquireOptions, reportedTimeout: number) => Promise<void>,
): Promise<void> {
  const { timeout, signal } = parseAcquireOptions(options, where);
  if (typeof predicate !== 'function') throw new TypeError(`${where}: predicate must be a function`);
  const deadline = performance.now() + timeout;
  while (!predicate()) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw timeoutError(null, label, timeout, [], waiting());
    await waitOnce({ timeout: remaining, signal }, timeout);
  }
}
