import { threadId } from 'node:worker_threads';
import {
  MAGIC,
  HEADER,
  THREAD_SLOTS,
  THREAD_WORDS,
  LOCK_SLOTS,
  LOCK_WORDS,
  WAIT_SLOTS,
  MAX_HELD,
  WAIT_WORDS,
  HOLD_SLOTS,
  HOLD_WORDS,
  CLASS_SLOTS,
  CLASS_WORDS,
  CLASS_NAME_BYTES,
  ThreadState,
  LockKind,
  OWNER_MASK,
  THREADS_AT,
  LOCKS_AT,
  WAITS_AT,
  HOLDS_AT,
  CLASSES_AT,
  INT32_WORDS,
  RANKS_AT,
  WAIT_SINCE_AT,
  CLASS_RANKS_AT,
  CLASS_NAMES_AT,
  ARENA_BYTES,
} from './arena-layout.js';
import { threadsState } from './threads-state.js';

/** What a worker needs to share this thread's locks and discipline: pass it in `workerData` or a message. */
export interface ThreadsContext {
  readonly arena: SharedArrayBuffer;
}

/** A published wait, as read back from the arena. */
export interface WaitRecord {
  readonly wait: number;
  readonly slot: number;
  readonly lock: number;
  readonly held: readonly number[];
  readonly since: number;
}

/** One thread's view of the shared arena (its layout is in arena-layout.ts). */
export class Arena {
  readonly words: Int32Array;
  readonly ranks: Float64Array;
  readonly waitSince: Float64Array;
  readonly classRanks: Float64Array;
  readonly classNames: Uint8Array;
  readonly id: number;
  /** This thread's slot. */
  readonly slot: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== ARENA_BYTES) throw new TypeError('deadbolt/threads: not a deadbolt threads arena (pass what threadsContext() returns)');
    this.words = new Int32Array(buffer, 0, INT32_WORDS);
    this.ranks = new Float64Array(buffer, RANKS_AT, LOCK_SLOTS);
    this.waitSince = new Float64Array(buffer, WAIT_SINCE_AT, WAIT_SLOTS);
    this.classRanks = new Float64Array(buffer, CLASS_RANKS_AT, CLASS_SLOTS);
    this.classNames = new Uint8Array(buffer, CLASS_NAMES_AT, CLASS_SLOTS * CLASS_NAME_BYTES);
    if (Atomics.compareExchange(this.words, 0, 0, MAGIC) === 0) Atomics.store(this.words, 3, (Math.random() * 0x7fffffff) | 1);
    else if (Atomics.load(this.words, 0) !== MAGIC) throw new TypeError('deadbolt/threads: the arena is corrupt, or was made by another version of deadbolt');
    while (Atomics.load(this.words, 3) === 0) {
      // The creating thread stores the id right after the magic: a joiner can only race it by a few instructions.
    }
    this.id = Atomics.load(this.words, 3);
    this.slot = this.#claimSlot();
  }

  /**
   * A new slot, or the slot of a dead thread that holds no lock any more (worker pools recycle
   * threads: without reuse the table would fill up with the dead).
   */
  #claimSlot(): number {
    let slot = Atomics.add(this.words, 2, 1);
    if (slot >= THREAD_SLOTS) {
      Atomics.store(this.words, 2, THREAD_SLOTS);
      slot = -1;
      for (let candidate = 0; candidate < THREAD_SLOTS && slot < 0; candidate++) {
        // Dead -> Free first: a late markThreadDead for the old thread must not hit the new one.
        if (this.isDead(candidate) && !this.#holdsAnyLock(candidate) && Atomics.compareExchange(this.words, THREADS_AT + candidate * THREAD_WORDS + 1, ThreadState.Dead, ThreadState.Free) === ThreadState.Dead) slot = candidate;
      }
      if (slot < 0) throw new RangeError(`deadbolt/threads: ${THREAD_SLOTS} live threads (or dead ones still holding locks) already use this arena`);
      this.#freeHoldEntriesOf(slot);
    }
    Atomics.store(this.words, THREADS_AT + slot * THREAD_WORDS, threadId + 1);
    Atomics.store(this.words, THREADS_AT + slot * THREAD_WORDS + 1, ThreadState.Alive);
    return slot;
  }

  #holdsAnyLock(slot: number): boolean {
    const locks = this.lockCount;
    for (let lock = 0; lock < locks; lock++) if (this.ownerOf(lock) === slot) return true;
    const entries = this.#holdEntryCount;
    for (let entry = 0; entry < entries; entry++) {
      const at = HOLDS_AT + entry * HOLD_WORDS;
      if (Atomics.load(this.words, at) !== 0 && Atomics.load(this.words, at + 1) === slot + 1 && Atomics.load(this.words, at + 2) !== 0) return true;
    }
    return false;
  }

  allocateLock(kind: LockKind, rank: number | undefined, lockClass = -1): number {
    const lock = Atomics.add(this.words, 1, 1);
    if (lock >= LOCK_SLOTS) throw new RangeError(`deadbolt/threads: more than ${LOCK_SLOTS} shared locks in one arena`);
    this.ranks[lock] = rank ?? Number.NaN;
    Atomics.store(this.words, LOCKS_AT + lock * LOCK_WORDS + 5, kind);
    Atomics.store(this.words, LOCKS_AT + lock * LOCK_WORDS + 1, lockClass + 1);
    return lock;
  }

  futex(lock: number): number {
    return LOCKS_AT + lock * LOCK_WORDS;
  }

  ownerDied(lock: number): number {
    return LOCKS_AT + lock * LOCK_WORDS + 2;
  }

  /** Index of the count of threads waiting on a semaphore's or read-write lock's word. */
  waiters(lock: number): number {
    return LOCKS_AT + lock * LOCK_WORDS + 3;
  }

  /** Index of the count of writers waiting for a read-write lock (new readers stay out meanwhile). */
  writersWaiting(lock: number): number {
    return LOCKS_AT + lock * LOCK_WORDS + 4;
  }

  /** A per-kind value set at creation: a semaphore's permits, a condition's mutex. */
  setAux(lock: number, value: number): void {
    Atomics.store(this.words, LOCKS_AT + lock * LOCK_WORDS + 6, value);
  }

  auxOf(lock: number): number {
    return Atomics.load(this.words, LOCKS_AT + lock * LOCK_WORDS + 6);
  }

  /** A semaphore's or read-write lock's count (the sum of what its holders added). */
  countOf(lock: number): number {
    return Atomics.load(this.words, this.futex(lock));
  }

  kindOf(lock: number): LockKind {
    return Atomics.load(this.words, LOCKS_AT + lock * LOCK_WORDS + 5) as LockKind;
  }

  /** The lock's class in the shared class table, or -1 for an unnamed lock. */
  classOf(lock: number): number {
    return Atomics.load(this.words, LOCKS_AT + lock * LOCK_WORDS + 1) - 1;
  }

  rankOf(lock: number): number | undefined {
    const rank = this.ranks[lock] as number;
    return Number.isNaN(rank) ? undefined : rank;
  }

  /** The thread slot owning mutex `lock`, or -1 (always -1 for other kinds: see holdersOf). */
  ownerOf(lock: number): number {
    if (this.kindOf(lock) !== LockKind.Mutex) return -1;
    return (Atomics.load(this.words, this.futex(lock)) & OWNER_MASK) - 1;
  }

  /** Each thread slot holding `lock`, with how many guards it holds it by. */
  holdersOf(lock: number): Map<number, number> {
    const holders = new Map<number, number>();
    if (this.kindOf(lock) === LockKind.Mutex) {
      const owner = this.ownerOf(lock);
      if (owner >= 0) holders.set(owner, 1);
      return holders;
    }
    const entries = this.#holdEntryCount;
    for (let entry = 0; entry < entries; entry++) {
      const at = HOLDS_AT + entry * HOLD_WORDS;
      if (Atomics.load(this.words, at) !== lock + 1) continue;
      const guards = Atomics.load(this.words, at + 3);
      const slot = Atomics.load(this.words, at + 1) - 1;
      if (guards > 0 && slot >= 0) holders.set(slot, (holders.get(slot) ?? 0) + guards);
    }
    return holders;
  }

  get #holdEntryCount(): number {
    return Math.min(Atomics.load(this.words, 4), HOLD_SLOTS);
  }

  /**
   * A hold entry of this thread for `lock` (a semaphore or read-write lock): only this thread
   * writes it while alive, so updating it needs no compare-and-swap.
   */
  claimHoldEntry(lock: number): number {
    const words = this.words;
    let entry = -1;
    const known = this.#holdEntryCount;
    for (let candidate = 0; candidate < known && entry < 0; candidate++) {
      if (Atomics.compareExchange(words, HOLDS_AT + candidate * HOLD_WORDS, 0, -1) === 0) entry = candidate;
    }
    if (entry < 0) {
      entry = Atomics.add(words, 4, 1);
      if (entry >= HOLD_SLOTS) {
        Atomics.store(words, 4, HOLD_SLOTS);
        throw new RangeError(`deadbolt/threads: more than ${HOLD_SLOTS} (thread, semaphore or read-write lock) pairs in one arena`);
      }
      Atomics.store(words, HOLDS_AT + entry * HOLD_WORDS, -1);
    }
    const at = HOLDS_AT + entry * HOLD_WORDS;
    Atomics.store(words, at + 1, this.slot + 1);
    Atomics.store(words, at + 2, 0);
    Atomics.store(words, at + 3, 0);
    Atomics.store(words, at, lock + 1);
    return at;
  }

  /**
   * Publishes this thread's totals in its hold entry. Only this thread writes the entry while it
   * lives, so plain stores do (a locked add here doubled the cost of a semaphore round trip):
   * another thread reading a stale value only sees a holder a moment late, and the entry of a
   * dead thread is read after its death, which synchronizes memory.
   */
  publishHold(at: number, units: number, guards: number): void {
    this.words[at + 2] = units;
    this.words[at + 3] = guards;
  }

  /** Frees a hold entry this thread no longer needs (its lock object was collected); a no-op while it holds units. */
  freeHoldEntry(at: number): void {
    if (Atomics.load(this.words, at + 2) === 0) Atomics.store(this.words, at, 0);
  }

  #freeHoldEntriesOf(slot: number): void {
    const entries = this.#holdEntryCount;
    for (let entry = 0; entry < entries; entry++) {
      const at = HOLDS_AT + entry * HOLD_WORDS;
      const lock = Atomics.load(this.words, at);
      if (lock > 0 && Atomics.load(this.words, at + 1) === slot + 1 && Atomics.load(this.words, at + 2) === 0) Atomics.compareExchange(this.words, at, lock, 0);
    }
  }

  /**
   * Gives back to `lock`'s count the units held by dead threads; returns how many. Each entry is
   * claimed by compare-and-swap first, so that two waiters never give the same units back twice.
   */
  reclaimFromDead(lock: number): number {
    let reclaimed = 0;
    const entries = this.#holdEntryCount;
    for (let entry = 0; entry < entries; entry++) {
      const at = HOLDS_AT + entry * HOLD_WORDS;
      if (Atomics.load(this.words, at) !== lock + 1) continue;
      const slot = Atomics.load(this.words, at + 1) - 1;
      if (slot < 0 || !this.isDead(slot) || Atomics.load(this.words, at + 2) === 0) continue;
      if (Atomics.compareExchange(this.words, at, lock + 1, -2) !== lock + 1) continue;
      const units = Atomics.exchange(this.words, at + 2, 0);
      Atomics.store(this.words, at + 3, 0);
      Atomics.sub(this.words, this.futex(lock), units);
      Atomics.store(this.words, at, 0);
      reclaimed += units;
    }
    if (reclaimed > 0) {
      Atomics.store(this.words, this.ownerDied(lock), 1);
      Atomics.notify(this.words, this.futex(lock));
    }
    return reclaimed;
  }

  /** Whether a dead thread still holds units of `lock` (cheap enough for each wait slice). */
  hasDeadHolder(lock: number): boolean {
    for (const slot of this.holdersOf(lock).keys()) if (this.isDead(slot)) return true;
    return false;
  }

  threadIdOf(slot: number): number {
    return Atomics.load(this.words, THREADS_AT + slot * THREAD_WORDS) - 1;
  }

  isDead(slot: number): boolean {
    return Atomics.load(this.words, THREADS_AT + slot * THREAD_WORDS + 1) === ThreadState.Dead;
  }

  /** Marks this thread dead (it is exiting), waking the waiters of the locks it still owns. */
  markSelfDead(): void {
    this.markThreadDead(threadId);
  }

  /** Publishes that a flow of this thread waits for `lock` while holding `held`; returns the wait's index. */
  publishWait(lock: number, held: readonly number[]): number {
    for (let wait = 0; wait < WAIT_SLOTS; wait++) {
      const at = WAITS_AT + wait * WAIT_WORDS;
      if (Atomics.compareExchange(this.words, at, 0, -1) !== 0) continue;
      const count = Math.min(held.length, MAX_HELD);
      for (let i = 0; i < count; i++) Atomics.store(this.words, at + 3 + i, held[i] as number);
      Atomics.store(this.words, at + 2, count);
      Atomics.store(this.words, at + 1, lock + 1);
      this.waitSince[wait] = Date.now();
      // Readers scan only up to the high-water mark: raise it before the wait becomes visible.
      for (let used = Atomics.load(this.words, 7); used < wait + 1; used = Atomics.load(this.words, 7)) Atomics.compareExchange(this.words, 7, used, wait + 1);
      Atomics.store(this.words, at, this.slot + 1);
      return wait;
    }
    return -1; // table full: this wait is not published (detection misses it, nothing else breaks)
  }

  /** Wait slots that may be in use: every published wait lies below this mark. */
  get #waitsUsed(): number {
    return Math.min(Atomics.load(this.words, 7), WAIT_SLOTS);
  }

  withdrawWait(wait: number): void {
    if (wait >= 0) Atomics.store(this.words, WAITS_AT + wait * WAIT_WORDS, 0);
  }

  /** Every published wait of a live thread. */
  waits(): WaitRecord[] {
    const out: WaitRecord[] = [];
    const used = this.#waitsUsed;
    for (let wait = 0; wait < used; wait++) {
      const at = WAITS_AT + wait * WAIT_WORDS;
      const slot = Atomics.load(this.words, at) - 1;
      if (slot < 0 || this.isDead(slot)) continue;
      const lock = Atomics.load(this.words, at + 1) - 1;
      const count = Atomics.load(this.words, at + 2);
      const held: number[] = [];
      for (let i = 0; i < count; i++) held.push(Atomics.load(this.words, at + 3 + i));
      out.push({ wait, slot, lock, held, since: this.waitSince[wait] as number });
    }
    return out;
  }

  /**
   * Marks the slots of thread `id` dead (it exited or was terminated) and wakes the waiters of
   * every lock it held: the next one takes the lock (or its units) with the owner-died flag set.
   */
  markThreadDead(id: number): void {
    for (let slot = 0; slot < this.threadCount; slot++) {
      if (this.threadIdOf(slot) !== id) continue;
      if (Atomics.compareExchange(this.words, THREADS_AT + slot * THREAD_WORDS + 1, ThreadState.Alive, ThreadState.Dead) !== ThreadState.Alive) continue;
      // A terminated thread never withdrew its waits; left in place they would count as the
      // waits of the next thread to reuse this slot.
      const used = this.#waitsUsed;
      for (let wait = 0; wait < used; wait++) Atomics.compareExchange(this.words, WAITS_AT + wait * WAIT_WORDS, slot + 1, 0);
      const locks = this.lockCount;
      for (let lock = 0; lock < locks; lock++) if (this.ownerOf(lock) === slot) Atomics.notify(this.words, this.futex(lock));
      const entries = this.#holdEntryCount;
      for (let entry = 0; entry < entries; entry++) {
        const at = HOLDS_AT + entry * HOLD_WORDS;
        const lock = Atomics.load(this.words, at) - 1;
        if (lock >= 0 && Atomics.load(this.words, at + 1) === slot + 1 && Atomics.load(this.words, at + 2) !== 0) Atomics.notify(this.words, this.futex(lock));
      }
    }
  }

  /** Whether `lock` names a lock of kind `kind` allocated in this arena. */
  isLock(lock: unknown, kind: LockKind): lock is number {
    return typeof lock === 'number' && Number.isInteger(lock) && lock >= 0 && lock < this.lockCount && this.kindOf(lock) === kind;
  }

  get lockCount(): number {
    return Math.min(Atomics.load(this.words, 1), LOCK_SLOTS);
  }

  get threadCount(): number {
    return Math.min(Atomics.load(this.words, 2), THREAD_SLOTS);
  }

  /** Int32 index of class `index`'s [state, name length] words. */
  classAt(index: number): number {
    return CLASSES_AT + index * CLASS_WORDS;
  }
}

/** This thread's arena: joined from a context or a received handle, or created on first use. */
export function arena(): Arena {
  threadsState.arena ??= new Arena(new SharedArrayBuffer(ARENA_BYTES));
  return threadsState.arena;
}

/** This thread's arena if it has one yet. */
export function currentArena(): Arena | null {
  return threadsState.arena;
}

/** The arena behind `buffer`, joining it if this thread has none yet. */
export function adoptArena(buffer: SharedArrayBuffer): Arena {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== ARENA_BYTES) throw new TypeError('deadbolt/threads: not a deadbolt threads arena (pass what threadsContext() returns, or a lock handle)');
  const current = threadsState.arena;
  if (current === null) {
    threadsState.arena = new Arena(buffer);
    return threadsState.arena;
  }
  const probe = new Int32Array(buffer, 0, HEADER);
  if (Atomics.load(probe, 3) !== current.id) {
    throw new Error('deadbolt/threads: this thread already uses another arena. Create shared locks in one thread (or pass threadsContext() to workers and joinThreads() first) so that all threads share one.');
  }
  return current;
}

/**
 * The context to hand to a worker, so that its shared locks, ranks and wait-for table are this
 * thread's. Handles of shared locks carry it too; this is for workers that create their own.
 *
 * @example
 * const worker = new Worker(file, { workerData: { deadbolt: threadsContext() } });
 */
export function threadsContext(): ThreadsContext {
  return { arena: arena().buffer };
}

/** Joins the arena of `context` (in a worker, before creating shared locks). */
export function joinThreads(context: ThreadsContext): void {
  if (context === null || typeof context !== 'object' || !(context.arena instanceof SharedArrayBuffer)) throw new TypeError('joinThreads(context): context must come from threadsContext()');
  adoptArena(context.arena);
}
