import { validateLockOptions, type LockOptions } from '../discipline/lock-class.js';
import { adoptArena, arena, type Arena } from './arena.js';
import type { LockKind } from './arena-layout.js';
import { lockName, rememberLockName, sharedClassFor } from './class-table.js';
import { CountWord } from './count-word.js';
import { threadsState } from './threads-state.js';

/** The shared lock types whose handles cross thread boundaries. */
export type SharedKind = 'SharedMutex' | 'SharedRwLock' | 'SharedSemaphore' | 'SharedCondition';

/** What crosses a thread boundary: post it to a worker, and rebuild the lock there with the class's `from(handle)`. */
export interface SharedLockHandle<K extends SharedKind = SharedKind> {
  readonly $deadbolt: K;
  readonly arena: SharedArrayBuffer;
  readonly lock: number;
  readonly name: string;
  readonly rank: number | undefined;
}

type Make<C> = (shared: Arena, lock: number, options: LockOptions) => C;

/**
 * Drops the map entry of a lock object the program no longer uses, and frees its hold entry in
 * the arena (a semaphore's or read-write lock's word; a no-op while it still holds units).
 */
const forget = new FinalizationRegistry<{ readonly lock: number; readonly word: unknown }>(({ lock, word }) => {
  if (threadsState.cores.get(lock)?.deref() === undefined) threadsState.cores.delete(lock);
  if (word instanceof CountWord) word.dispose();
});

function register<C extends object>(lock: number, core: C): C {
  threadsState.cores.set(lock, new WeakRef(core));
  forget.register(core, { lock, word: (core as { word?: unknown }).word });
  return core;
}

/**
 * A new shared lock in this thread's arena. A named lock joins (or registers) its class in the
 * shared class table, so it has the same rank in every thread.
 */
export function createShared<C extends object>(kind: SharedKind, lockKind: LockKind, options: LockOptions | undefined, make: Make<C>): C {
  const { name, rank } = validateLockOptions(kind, options);
  const shared = arena();
  const sharedClass = name === undefined ? undefined : sharedClassFor(shared, kind, name, rank);
  const classRank = sharedClass === undefined ? rank : sharedClass.rank;
  const lock = shared.allocateLock(lockKind, classRank, sharedClass?.index ?? -1);
  const lockLabel = name ?? `${kind.replace('Shared', 'shared-').toLowerCase()}#${lock}`;
  if (name === undefined) rememberLockName(lock, lockLabel);
  return register(lock, make(shared, lock, { name: lockLabel, rank: classRank }));
}

/** The lock behind a handle received from another thread (one object per lock per thread). */
export function adoptShared<C extends object>(handle: unknown, kind: SharedKind, lockKind: LockKind, make: Make<C>): C {
  const where = `${kind}.from(handle)`;
  const candidate = handle as Partial<SharedLockHandle> | null;
  if (candidate === null || typeof candidate !== 'object' || candidate.$deadbolt !== kind || !(candidate.arena instanceof SharedArrayBuffer)) {
    const got = candidate !== null && typeof candidate === 'object' && typeof candidate.$deadbolt === 'string' ? ` (got a ${candidate.$deadbolt} handle)` : '';
    throw new TypeError(`${where}: handle must be a ${kind} handle (lock.handle), received through postMessage or workerData${got}`);
  }
  const shared = adoptArena(candidate.arena);
  if (!shared.isLock(candidate.lock, lockKind)) throw new TypeError(`${where}: lock ${String(candidate.lock)} is not a ${kind} of this arena (a forged or corrupted handle)`);
  const lock = candidate.lock;
  const existing = threadsState.cores.get(lock)?.deref() as C | undefined;
  if (existing !== undefined) return existing;
  const name = shared.classOf(lock) >= 0 ? lockName(shared, lock) : typeof candidate.name === 'string' && candidate.name !== '' ? candidate.name : `${kind}#${lock}`;
  if (shared.classOf(lock) < 0) rememberLockName(lock, name);
  return register(lock, make(shared, lock, { name, rank: shared.rankOf(lock) }));
}

/** The handle of a shared lock. */
export function handleOf<K extends SharedKind>(kind: K, shared: Arena, lock: number, name: string | undefined, rank: number | undefined): SharedLockHandle<K> {
  return { $deadbolt: kind, arena: shared.buffer, lock, name: name ?? '', rank };
}

let adopting: object | null = null;

/**
 * Private fields can only be set by a constructor: `from(handle)` parks the adopted core here
 * and calls `new`, whose constructor takes it instead of creating a lock.
 */
export function construct<T>(core: object, build: () => T): T {
  adopting = core;
  try {
    return build();
  } finally {
    adopting = null;
  }
}

/** The core parked by `construct`, if this constructor call is an adoption. */
export function takeAdopted<C>(): C | null {
  const core = adopting as C | null;
  adopting = null;
  return core;
}
