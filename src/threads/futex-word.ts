import { DeadlockError, LockTimeoutError, type CycleStep } from '../discipline/errors.js';
import { channels, publish } from '../discipline/events.js';
import { CONTENDED, OWNER_MASK, type Arena, type WaitRecord } from './arena.js';

/** Atomics.waitAsync (ES2024; Node 16+), typed here because the project's lib is ES2023. */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeout: number): { async: false; value: string } | { async: true; value: Promise<string> } }).waitAsync;

/** Longest single Atomics.wait: each slice re-checks the deadline, the owner's liveness and cycles. */
const SLICE_MS = 1;
/** A cycle whose chosen victim has not given way after this long is broken by any member. */
const VICTIM_GRACE_MS = 100;

/** Names of locks this thread knows, for reports (the arena holds numbers only). */
export const lockNames = new Map<number, string>();

function lockLabel(lock: number): string {
  return lockNames.get(lock) ?? `shared lock #${lock}`;
}

/**
 * The cross-thread half of a shared lock: a futex word in the arena, taken by compare-and-swap
 * and waited for with Atomics.wait (sync) or Atomics.waitAsync (async), in short slices so that
 * each wait re-checks its deadline, the owner thread's liveness (a dead owner's lock is taken
 * over, with `ownerDied` set) and the cross-thread wait-for graph (a wait that closes a cycle
 * throws DeadlockError in the thread whose wait began last).
 */
export class FutexWord {
  /** True while this thread holds the lock it took over from a thread that died holding it. */
  ownerDied = false;
  readonly #futex: number;
  readonly #me: number;

  constructor(
    readonly arena: Arena,
    readonly lock: number,
  ) {
    this.#futex = arena.futex(lock);
    this.#me = arena.slot + 1;
  }

  /** One compare-and-swap when free; else takes over from a dead owner, or fails. */
  tryAcquire(): boolean {
    const seen = Atomics.compareExchange(this.arena.words, this.#futex, 0, this.#me);
    return seen === 0 || this.#takeOverFromDead(seen);
  }

  /** The owner thread died holding the lock: the first waiter to swap itself in owns it. */
  #takeOverFromDead(seen: number): boolean {
    const owner = (seen & OWNER_MASK) - 1;
    if (owner < 0 || !this.arena.isDead(owner)) return false;
    if (Atomics.compareExchange(this.arena.words, this.#futex, seen, this.#me | CONTENDED) !== seen) return false;
    Atomics.store(this.arena.words, this.arena.ownerDied(this.lock), 1);
    this.ownerDied = true;
    return true;
  }

  /**
   * Frees the word only if this thread still owns it: after this thread was marked dead (its
   * exit handler runs before the user's), another thread may have taken the lock over.
   */
  release(): void {
    if (this.ownerDied) {
      this.ownerDied = false;
      Atomics.store(this.arena.words, this.arena.ownerDied(this.lock), 0);
    }
    if (Atomics.compareExchange(this.arena.words, this.#futex, this.#me, 0) === this.#me) return;
    if (Atomics.compareExchange(this.arena.words, this.#futex, this.#me | CONTENDED, 0) === (this.#me | CONTENDED)) Atomics.notify(this.arena.words, this.#futex, 1);
  }

  /**
   * One step of waiting: true once acquired (taken as contended, since others may still wait).
   * Otherwise marks the word contended, so that the owner's release wakes a waiter, and returns
   * the value to wait on.
   */
  #claim(): number {
    for (;;) {
      const seen = Atomics.compareExchange(this.arena.words, this.#futex, 0, this.#me | CONTENDED);
      if (seen === 0 || this.#takeOverFromDead(seen)) return -1;
      if ((seen & CONTENDED) !== 0) return seen;
      // Waiting on a value without the bit would miss the owner's wake-up: set it, or start over
      // if the word changed meanwhile (released, or taken by another thread).
      if (Atomics.compareExchange(this.arena.words, this.#futex, seen, seen | CONTENDED) === seen) return seen | CONTENDED;
    }
  }

  /** Blocks the thread until acquired; `held`: the shared locks the blocked code holds. */
  acquireSync(deadline: number, timeout: number, label: string, held: readonly number[]): void {
    if (this.tryAcquire()) return;
    // A wait whose flow holds no shared lock can never be on a cycle: nothing to publish or check.
    const wait = held.length === 0 ? -1 : this.arena.publishWait(this.lock, held);
    const watch = new CycleWatch(this.arena, wait);
    try {
      for (;;) {
        const value = this.#claim();
        if (value === -1) return;
        watch.check(label);
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw this.#timeout(label, timeout);
        Atomics.wait(this.arena.words, this.#futex, value, Math.min(SLICE_MS, remaining));
      }
    } finally {
      this.arena.withdrawWait(wait);
    }
  }

  /**
   * Waits without blocking the thread. A pending Atomics.waitAsync does not keep Node's event
   * loop alive (nodejs/node#61941), so a ref'd timer does while this waits.
   */
  async acquireAsync(deadline: number, timeout: number, signal: AbortSignal | undefined, label: string, held: readonly number[]): Promise<void> {
    if (this.tryAcquire()) return;
    // A wait whose flow holds no shared lock can never be on a cycle: nothing to publish or check.
    const wait = held.length === 0 ? -1 : this.arena.publishWait(this.lock, held);
    const watch = new CycleWatch(this.arena, wait);
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      for (;;) {
        const value = this.#claim();
        if (value === -1) return;
        if (signal?.aborted) throw signal.reason;
        watch.check(label);
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw this.#timeout(label, timeout);
        const result = waitAsync(this.arena.words, this.#futex, value, Math.min(SLICE_MS, remaining));
        if (result.async) await result.value;
      }
    } finally {
      clearInterval(keepAlive);
      this.arena.withdrawWait(wait);
    }
  }

  #timeout(label: string, timeout: number): LockTimeoutError {
    const owner = this.arena.ownerOf(this.lock);
    const report = `Waited ${timeout} ms for ${label}, held by ${owner < 0 ? 'no recorded thread' : `thread ${this.arena.threadIdOf(owner)}`}.`;
    const error = new LockTimeoutError(`timed out after ${timeout} ms waiting for ${label}`, report, timeout, label);
    publish(channels.timeout, { error });
    return error;
  }
}

/** The cross-thread wait-for check of one published wait: the threads' version of fs's cycle watch. */
export class CycleWatch {
  #key = '';
  #seen = 0;

  constructor(
    readonly arena: Arena,
    readonly wait: number,
  ) {}

  check(label: string): void {
    if (this.wait < 0) return;
    const cycle = findCycle(this.arena, this.wait);
    if (cycle === null) {
      this.#key = '';
      return;
    }
    const key = cycle.map((member) => member.wait).join(' ');
    const now = Date.now();
    if (key !== this.#key) {
      this.#key = key;
      this.#seen = now;
    }
    const victim = cycle.reduce((a, b) => (b.since > a.since || (b.since === a.since && b.wait > a.wait) ? b : a));
    if (victim.wait === this.wait || now - this.#seen > VICTIM_GRACE_MS) throw crossThreadDeadlock(this.arena, cycle, label);
  }
}

/** The cycle through wait `start` (starting with it), or null: each waits for a lock the next one's flow holds. */
export function findCycle(arena: Arena, start: number): WaitRecord[] | null {
  const waits = arena.waits();
  const first = waits.find((record) => record.wait === start);
  if (first === undefined || first.held.length === 0) return null;
  const blockers = (record: WaitRecord): WaitRecord[] => {
    // The owner thread's waiting flows that hold the lock (in the owner's own thread too: a flow
    // queued behind another flow of its thread waits for that flow).
    const owner = arena.ownerOf(record.lock);
    if (owner < 0) return [];
    return waits.filter((other) => other !== record && other.slot === owner && other.held.includes(record.lock));
  };
  const path: WaitRecord[] = [];
  const visited = new Set<WaitRecord>();
  const search = (record: WaitRecord): boolean => {
    path.push(record);
    for (const next of blockers(record)) {
      if (next === first) return true;
      if (visited.has(next)) continue;
      visited.add(next);
      if (search(next)) return true;
    }
    path.pop();
    return false;
  };
  return search(first) ? path : null;
}

function crossThreadDeadlock(arena: Arena, cycle: readonly WaitRecord[], label: string): DeadlockError {
  const now = Date.now();
  const thread = (slot: number): string => `thread ${arena.threadIdOf(slot)}${slot === arena.slot ? ' (this thread)' : ''}`;
  const lines = ['Cross-thread wait-for cycle (each waits for a shared lock that the next one holds):'];
  const steps: CycleStep[] = [];
  cycle.forEach((record, index) => {
    const next = cycle[(index + 1) % cycle.length] as WaitRecord;
    lines.push(
      `  ${thread(record.slot)} waits for ${lockLabel(record.lock)} for ${Math.max(0, now - record.since)} ms, holding ${record.held.map(lockLabel).join(', ')}`,
      `    -> ${lockLabel(record.lock)} is held by ${thread(next.slot)}`,
    );
    const ref = (slot: number, lock: number, id: number) => ({ id, lock: `${lockLabel(lock)} (${thread(slot)})`, className: lockLabel(lock), rank: arena.rankOf(lock), mode: 'exclusive' as const, stack: undefined });
    steps.push({ waiter: ref(record.slot, record.lock, index), holder: ref(next.slot, record.lock, index + 1), via: 'holder' });
  });
  lines.push('', 'This wait began last, so it is the victim; the other threads keep waiting and go on once this one releases what it holds.', 'Fix: take shared locks in one order in every thread (give them ranks).');
  const error = new DeadlockError(`deadlock across threads: ${label} would wait forever`, lines.join('\n'), steps);
  publish(channels.deadlock, { error });
  return error;
}

/**
 * Publishes a wait in this thread's in-thread queue of a shared lock (a flow queued behind
 * another flow of its thread, while holding shared locks) and checks it for cycles every
 * millisecond until stopped; `onDeadlock` gets the DeadlockError if it is the victim.
 */
export function watchQueuedWait(arena: Arena, lock: number, held: readonly number[], label: string, onDeadlock: (error: unknown) => void): () => void {
  const wait = arena.publishWait(lock, held);
  const watch = new CycleWatch(arena, wait);
  const timer = setInterval(() => {
    try {
      watch.check(label);
    } catch (error) {
      stop();
      onDeadlock(error);
    }
  }, SLICE_MS);
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    arena.withdrawWait(wait);
  };
  return stop;
}
