import { threadId } from 'node:worker_threads';

/*
 * The shared arena: one SharedArrayBuffer shared by every thread of a program. It holds each
 * shared lock's futex word, owner thread and rank, each thread's slot (alive or dead), and the
 * published waits: which lock a waiting flow wants and which shared locks that flow holds. That
 * is what makes one discipline across threads possible: a flow about to wait can see, in every
 * thread, who owns what and who waits for what (the design of deadbolt/fs's wait registry, in
 * shared memory instead of files).
 *
 * Int32 layout:
 *   header   [0] magic  [1] locks allocated  [2] thread slots allocated  [3] arena id
 *   threads  THREAD_SLOTS x [threadId + 1, state]
 *   locks    LOCK_SLOTS x [futex word (owner slot + 1 | CONTENDED), 0, owner died, 0]
 *   waits    WAIT_SLOTS x [owner slot + 1 (0 = free), awaited lock + 1, held count, held locks x MAX_HELD]
 * then a Float64 per lock (rank, NaN for none) and per wait (epoch ms when it began).
 */

const MAGIC = 0x64626c74; // "dblt"
const HEADER = 4;
export const THREAD_SLOTS = 256;
const THREAD_WORDS = 2;
export const LOCK_SLOTS = 4_096;
const LOCK_WORDS = 4;
export const WAIT_SLOTS = 1_024;
/** Held locks published per waiting flow; a flow holding more publishes the first ones. */
export const MAX_HELD = 13;
const WAIT_WORDS = 3 + MAX_HELD;

export const enum ThreadState {
  Free = 0,
  Alive = 1,
  Dead = 2,
}

/**
 * A futex word is 0 when free, else the owner's thread slot + 1, with CONTENDED set once some
 * thread waits (Drepper's three-state mutex, with the owner folded in so that taking and
 * releasing the lock are one atomic operation each, as in the bare CAS mutex).
 */
export const CONTENDED = 1 << 30;
export const OWNER_MASK = CONTENDED - 1;

const THREADS_AT = HEADER;
const LOCKS_AT = THREADS_AT + THREAD_SLOTS * THREAD_WORDS;
const WAITS_AT = LOCKS_AT + LOCK_SLOTS * LOCK_WORDS;
const INT32_WORDS = WAITS_AT + WAIT_SLOTS * WAIT_WORDS;
const RANKS_AT = INT32_WORDS * 4;
const WAIT_SINCE_AT = RANKS_AT + LOCK_SLOTS * 8;
export const ARENA_BYTES = WAIT_SINCE_AT + WAIT_SLOTS * 8;

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

export class Arena {
  readonly words: Int32Array;
  readonly ranks: Float64Array;
  readonly waitSince: Float64Array;
  readonly id: number;
  /** This thread's slot. */
  readonly slot: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== ARENA_BYTES) throw new TypeError('deadbolt/threads: not a deadbolt threads arena (pass what threadsContext() returns)');
    this.words = new Int32Array(buffer, 0, INT32_WORDS);
    this.ranks = new Float64Array(buffer, RANKS_AT, LOCK_SLOTS);
    this.waitSince = new Float64Array(buffer, WAIT_SINCE_AT, WAIT_SLOTS);
    if (Atomics.compareExchange(this.words, 0, 0, MAGIC) === 0) Atomics.store(this.words, 3, (Math.random() * 0x7fffffff) | 1);
    else if (Atomics.load(this.words, 0) !== MAGIC) throw new TypeError('deadbolt/threads: the arena is corrupt');
    while (Atomics.load(this.words, 3) === 0) {
      // The creating thread stores the id right after the magic: a joiner can only race it by a few instructions.
    }
    this.id = Atomics.load(this.words, 3);
    this.slot = this.#claimSlot();
  }

  /**
   * A new slot, or the slot of a dead thread that owns no lock any more (worker pools recycle
   * threads: without reuse the table would fill up with the dead).
   */
  #claimSlot(): number {
    let slot = Atomics.add(this.words, 2, 1);
    if (slot >= THREAD_SLOTS) {
      Atomics.store(this.words, 2, THREAD_SLOTS);
      slot = -1;
      for (let candidate = 0; candidate < THREAD_SLOTS && slot < 0; candidate++) {
        // Dead -> Free first: a late markThreadDead for the old thread must not hit the new one.
        if (this.isDead(candidate) && !this.#ownsAnyLock(candidate) && Atomics.compareExchange(this.words, THREADS_AT + candidate * THREAD_WORDS + 1, ThreadState.Dead, ThreadState.Free) === ThreadState.Dead) slot = candidate;
      }
      if (slot < 0) throw new RangeError(`deadbolt/threads: ${THREAD_SLOTS} live threads (or dead ones still owning locks) already use this arena`);
    }
    Atomics.store(this.words, THREADS_AT + slot * THREAD_WORDS, threadId + 1);
    Atomics.store(this.words, THREADS_AT + slot * THREAD_WORDS + 1, ThreadState.Alive);
    return slot;
  }

  #ownsAnyLock(slot: number): boolean {
    const locks = Math.min(Atomics.load(this.words, 1), LOCK_SLOTS);
    for (let lock = 0; lock < locks; lock++) if (this.ownerOf(lock) === slot) return true;
    return false;
  }

  allocateLock(rank: number | undefined): number {
    const lock = Atomics.add(this.words, 1, 1);
    if (lock >= LOCK_SLOTS) throw new RangeError(`deadbolt/threads: more than ${LOCK_SLOTS} shared locks in one arena`);
    this.ranks[lock] = rank ?? Number.NaN;
    return lock;
  }

  futex(lock: number): number {
    return LOCKS_AT + lock * LOCK_WORDS;
  }

  ownerDied(lock: number): number {
    return LOCKS_AT + lock * LOCK_WORDS + 2;
  }

  rankOf(lock: number): number | undefined {
    const rank = this.ranks[lock] as number;
    return Number.isNaN(rank) ? undefined : rank;
  }

  /** The thread slot owning `lock`, or -1. */
  ownerOf(lock: number): number {
    return (Atomics.load(this.words, this.futex(lock)) & OWNER_MASK) - 1;
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
      Atomics.store(this.words, at, this.slot + 1);
      return wait;
    }
    return -1; // table full: this wait is not published (detection misses it, nothing else breaks)
  }

  withdrawWait(wait: number): void {
    if (wait >= 0) Atomics.store(this.words, WAITS_AT + wait * WAIT_WORDS, 0);
  }

  /** Every published wait of a live thread. */
  waits(): WaitRecord[] {
    const out: WaitRecord[] = [];
    for (let wait = 0; wait < WAIT_SLOTS; wait++) {
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
   * every lock it owned: the next one takes the lock with the owner-died flag set.
   */
  markThreadDead(id: number): void {
    for (let slot = 0; slot < this.threadCount; slot++) {
      if (this.threadIdOf(slot) !== id) continue;
      if (Atomics.compareExchange(this.words, THREADS_AT + slot * THREAD_WORDS + 1, ThreadState.Alive, ThreadState.Dead) !== ThreadState.Alive) continue;
      // A terminated thread never withdrew its waits; left in place they would count as the
      // waits of the next thread to reuse this slot.
      for (let wait = 0; wait < WAIT_SLOTS; wait++) Atomics.compareExchange(this.words, WAITS_AT + wait * WAIT_WORDS, slot + 1, 0);
      const locks = Math.min(Atomics.load(this.words, 1), LOCK_SLOTS);
      for (let lock = 0; lock < locks; lock++) if (this.ownerOf(lock) === slot) Atomics.notify(this.words, this.futex(lock));
    }
  }

  /** Whether `lock` names a lock allocated in this arena. */
  isLock(lock: unknown): lock is number {
    return typeof lock === 'number' && Number.isInteger(lock) && lock >= 0 && lock < Math.min(Atomics.load(this.words, 1), LOCK_SLOTS);
  }

  get threadCount(): number {
    return Math.min(Atomics.load(this.words, 2), THREAD_SLOTS);
  }
}

let current: Arena | null = null;

/** This thread's arena: joined from a context or a received handle, or created on first use. */
export function arena(): Arena {
  current ??= new Arena(new SharedArrayBuffer(ARENA_BYTES));
  return current;
}

/** This thread's arena if it has one yet. */
export function currentArena(): Arena | null {
  return current;
}

/** The arena behind `buffer`, joining it if this thread has none yet. */
export function adoptArena(buffer: SharedArrayBuffer): Arena {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== ARENA_BYTES) throw new TypeError('deadbolt/threads: not a deadbolt threads arena (pass what threadsContext() returns, or a lock handle)');
  if (current === null) {
    current = new Arena(buffer);
    return current;
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
