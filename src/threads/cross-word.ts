import type { AcqMode } from '../discipline/acquisition.js';
import { LockTimeoutError } from '../discipline/errors.js';
import { channels, publish } from '../discipline/events.js';
import type { Arena } from './arena.js';
import { CycleWatch, SLICE_MS } from './cycle-watch.js';

/** Atomics.waitAsync (ES2024; Node 16+), typed here because the project's lib is ES2023. */
export const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeout: number): { async: false; value: string } | { async: true; value: Promise<string> } }).waitAsync;

/**
 * The cross-thread half of a shared lock: a word in the arena, taken by compare-and-swap and
 * waited for with Atomics.wait (sync) or Atomics.waitAsync (async), in short slices so that each
 * wait re-checks its deadline, the holders' liveness (what a dead thread held is taken over, with
 * the owner-died flag set) and the cross-thread wait-for graph (a wait that closes a cycle throws
 * DeadlockError in the thread whose wait began last, or in another member if that one has not
 * given way within 100 ms).
 */
export abstract class CrossWord {
  /** Set by the acquisition that took over what a dead thread held; the lock's core reads and clears it. */
  tookOverFromDead = false;
  protected readonly futexIndex: number;

  constructor(
    readonly arena: Arena,
    readonly lock: number,
  ) {
    this.futexIndex = arena.futex(lock);
  }

  /** Takes the word without waiting, if it is free enough for `mode`/`weight`. */
  abstract tryAcquire(mode: AcqMode, weight: number): boolean;

  abstract release(mode: AcqMode, weight: number): void;

  /** One step of waiting: -1 once acquired, else the word's value to wait on. */
  protected abstract claim(mode: AcqMode, weight: number): number;

  /** Called once before a wait's first slice and once after its last (waiter counts). */
  protected beginWait(_mode: AcqMode): void {}
  protected endWait(_mode: AcqMode): void {}

  /** Blocks the thread until acquired; `held`: the shared locks the blocked code holds. */
  acquireSync(mode: AcqMode, weight: number, deadline: number, timeout: number, label: string, held: readonly number[]): void {
    if (this.tryAcquire(mode, weight)) return;
    // A wait whose flow holds no shared lock can never be on a cycle: nothing to publish or check.
    const wait = held.length === 0 ? -1 : this.arena.publishWait(this.lock, held);
    const watch = new CycleWatch(this.arena, wait);
    this.beginWait(mode);
    try {
      for (;;) {
        const value = this.claim(mode, weight);
        if (value === -1) return;
        watch.check(label);
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw this.#timeout(label, timeout);
        Atomics.wait(this.arena.words, this.futexIndex, value, Math.min(SLICE_MS, remaining));
      }
    } finally {
      this.endWait(mode);
      this.arena.withdrawWait(wait);
    }
  }

  /**
   * Waits without blocking the thread. A pending Atomics.waitAsync does not keep Node's event
   * loop alive (nodejs/node#61941), so a ref'd timer does while this waits.
   */
  async acquireAsync(mode: AcqMode, weight: number, deadline: number, timeout: number, signal: AbortSignal | undefined, label: string, held: readonly number[]): Promise<void> {
    if (this.tryAcquire(mode, weight)) return;
    const wait = held.length === 0 ? -1 : this.arena.publishWait(this.lock, held);
    const watch = new CycleWatch(this.arena, wait);
    const keepAlive = setInterval(() => undefined, 1 << 30);
    this.beginWait(mode);
    try {
      for (;;) {
        const value = this.claim(mode, weight);
        if (value === -1) return;
        if (signal?.aborted) throw signal.reason;
        watch.check(label);
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw this.#timeout(label, timeout);
        const result = waitAsync(this.arena.words, this.futexIndex, value, Math.min(SLICE_MS, remaining));
        if (result.async) await result.value;
      }
    } finally {
      this.endWait(mode);
      clearInterval(keepAlive);
      this.arena.withdrawWait(wait);
    }
  }

  /** Who holds the word, for a timeout report. */
  protected abstract describeHolders(): string;

  #timeout(label: string, timeout: number): LockTimeoutError {
    const report = `Waited ${timeout} ms for ${label}, held by ${this.describeHolders()}.`;
    const error = new LockTimeoutError(`timed out after ${timeout} ms waiting for ${label}`, report, timeout, label);
    publish(channels.timeout, { error });
    return error;
  }
}

/** `thread 3, thread 5`, or `no recorded thread`. */
export function describeSlots(arena: Arena, slots: Iterable<number>): string {
  const threads = [...slots].map((slot) => `thread ${arena.threadIdOf(slot)}${slot === arena.slot ? ' (this thread)' : ''}`);
  return threads.length === 0 ? 'no recorded thread' : threads.join(', ');
}
