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
 *            [4] hold entries allocated  [5] classes allocated  [6] class table lock  [7] wait slots ever used (a high-water mark)
 *   threads  THREAD_SLOTS x [threadId + 1, state]
 *   locks    LOCK_SLOTS x [futex word, class + 1, owner died, waiters, writers waiting, kind, aux]
 *            (aux: a semaphore's permits, a condition's mutex)
 *   waits    WAIT_SLOTS x [owner slot + 1 (0 = free), awaited lock + 1, held count, held locks x MAX_HELD]
 *   holds    HOLD_SLOTS x [lock + 1 (0 = free, <0 = being claimed), thread slot + 1, units, guards]
 *   classes  CLASS_SLOTS x [state (0 = free, 1 = ready), name length in bytes]
 * then a Float64 per lock (rank, NaN for none), per wait (epoch ms when it began) and per class
 * (rank), and CLASS_NAME_BYTES of UTF-8 per class name.
 *
 * The futex word of a mutex is its owner's slot + 1 (with CONTENDED). That of a semaphore or
 * read-write lock is a count: the sum of what its holders added (a permit weight, 1 per reader,
 * WRITER for a writer); who holds how much is in the hold table, so that the units of a thread
 * that died can be given back and the wait-for check can see every holder.
 */

export const MAGIC = 0x64626c75; // "dblu": the layout's version is in the magic
export const HEADER = 8;
export const THREAD_SLOTS = 256;
export const THREAD_WORDS = 2;
export const LOCK_SLOTS = 4_096;
export const LOCK_WORDS = 7;
export const WAIT_SLOTS = 1_024;
/** Held locks published per waiting flow; a flow holding more publishes the first ones. */
export const MAX_HELD = 13;
export const WAIT_WORDS = 3 + MAX_HELD;
export const HOLD_SLOTS = 4_096;
export const HOLD_WORDS = 4;
export const CLASS_SLOTS = 512;
export const CLASS_WORDS = 2;
export const CLASS_NAME_BYTES = 128;

export const enum ThreadState {
  Free = 0,
  Alive = 1,
  Dead = 2,
}

/** What a lock slot's futex word means. */
export const enum LockKind {
  Mutex = 0,
  Semaphore = 1,
  RwLock = 2,
  Condition = 3,
}

/**
 * A futex word is 0 when free, else the owner's thread slot + 1, with CONTENDED set once some
 * thread waits (Drepper's three-state mutex, with the owner folded in so that taking and
 * releasing the lock are one atomic operation each, as in the bare CAS mutex).
 */
export const CONTENDED = 1 << 30;
export const OWNER_MASK = CONTENDED - 1;
/** What a writer adds to a read-write lock's count (readers add 1 each). */
export const WRITER = 1 << 29;

export const THREADS_AT = HEADER;
export const LOCKS_AT = THREADS_AT + THREAD_SLOTS * THREAD_WORDS;
export const WAITS_AT = LOCKS_AT + LOCK_SLOTS * LOCK_WORDS;
export const HOLDS_AT = WAITS_AT + WAIT_SLOTS * WAIT_WORDS;
export const CLASSES_AT = HOLDS_AT + HOLD_SLOTS * HOLD_WORDS;
export const INT32_WORDS = CLASSES_AT + CLASS_SLOTS * CLASS_WORDS;
export const RANKS_AT = INT32_WORDS * 4;
export const WAIT_SINCE_AT = RANKS_AT + LOCK_SLOTS * 8;
export const CLASS_RANKS_AT = WAIT_SINCE_AT + WAIT_SLOTS * 8;
export const CLASS_NAMES_AT = CLASS_RANKS_AT + CLASS_SLOTS * 8;
export const ARENA_BYTES = CLASS_NAMES_AT + CLASS_SLOTS * CLASS_NAME_BYTES;
