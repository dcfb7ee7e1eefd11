import type { AcqMode } from '../discipline/acquisition.js';
import type { CheckedGuard, HeldGuard } from './guard.js';

/**
 * One queued request. Waiters form an intrusive doubly linked list, so a waiter that times out or
 * is aborted is unlinked in O(1) and leaves nothing behind: 100k abandoned waiters cost neither
 * memory nor time at the next release.
 */
export class Waiter {
  prev: Waiter | null = null;
  next: Waiter | null = null;
  queued = false;
  timer: NodeJS.Timeout | undefined = undefined;
  /** The abort signal the waiter listens to, through its lock's per-signal listener. */
  signal: AbortSignal | undefined = undefined;
  /** Fast mode: a suspended guard to re-bind on grant (Condition.wait), else null: a new one is made. */
  guard: HeldGuard | null = null;
  resolve!: (value: never) => void;
  reject!: (reason: unknown) => void;

  constructor(
    readonly mode: AcqMode,
    readonly weight: number,
    /** The engine's record of this request, which becomes its guard (checked mode), else null. */
    readonly record: CheckedGuard | null,
  ) {}

}

export class WaitQueue {
  head: Waiter | null = null;
  tail: Waiter | null = null;
  size = 0;

  push(waiter: Waiter): void {
    waiter.prev = this.tail;
    waiter.next = null;
    if (this.tail !== null) this.tail.next = waiter;
    else this.head = waiter;
    this.tail = waiter;
    waiter.queued = true;
    this.size++;
  }

  remove(waiter: Waiter): void {
    if (!waiter.queued) return;
    if (waiter.prev !== null) waiter.prev.next = waiter.next;
    else this.head = waiter.next;
    if (waiter.next !== null) waiter.next.prev = waiter.prev;
    else this.tail = waiter.prev;
    waiter.prev = waiter.next = null;
    waiter.queued = false;
    this.size--;
  }
}
