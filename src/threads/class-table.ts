import type { Arena } from './arena.js';
import { CLASS_NAME_BYTES, CLASS_SLOTS } from './arena-layout.js';

/*
 * The shared class table: lock class names and their ranks, in the arena, so that every thread
 * agrees on them. A worker that creates `new SharedMutex({ name: 'accounts' })` gets the rank the
 * main thread declared for "accounts", and one that declares another rank for it is refused, as
 * two locks of one name with two ranks are refused within a thread. Registration takes a short
 * spinlock in the arena (a class is registered once per name, so it is never contended for long).
 */

const CLASS_COUNT = 5;
const CLASS_LOCK = 6;
const READY = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Names of classes this thread has read, by index (a ready class never changes). */
const namesSeen = new Map<number, string>();

export interface SharedClass {
  readonly index: number;
  readonly name: string;
  readonly rank: number | undefined;
}

function nameAt(arena: Arena, index: number): string {
  let name = namesSeen.get(index);
  if (name === undefined) {
    const length = Atomics.load(arena.words, arena.classAt(index) + 1);
    // TextDecoder refuses views of shared memory: copy the bytes out first.
    name = decoder.decode(arena.classNames.slice(index * CLASS_NAME_BYTES, index * CLASS_NAME_BYTES + length));
    namesSeen.set(index, name);
  }
  return name;
}

function rankAt(arena: Arena, index: number): number | undefined {
  const rank = arena.classRanks[index] as number;
  return Number.isNaN(rank) ? undefined : rank;
}

function find(arena: Arena, name: string): number {
  const count = Math.min(Atomics.load(arena.words, CLASS_COUNT), CLASS_SLOTS);
  for (let index = 0; index < count; index++) {
    if (Atomics.load(arena.words, arena.classAt(index)) === READY && nameAt(arena, index) === name) return index;
  }
  return -1;
}

function withTableLock<T>(arena: Arena, fn: () => T): T {
  const me = arena.slot + 1;
  for (;;) {
    const holder = Atomics.compareExchange(arena.words, CLASS_LOCK, 0, me);
    if (holder === 0) break;
    // A thread terminated mid-registration would hold it forever: take it over from the dead.
    if (arena.isDead(holder - 1)) Atomics.compareExchange(arena.words, CLASS_LOCK, holder, 0);
  }
  try {
    return fn();
  } finally {
    Atomics.store(arena.words, CLASS_LOCK, 0);
  }
}

/**
 * The shared class `name`, registered with `rank` if no thread has registered it yet. Throws
 * TypeError if it exists with another rank (omitting the rank adopts the class's).
 */
export function sharedClassFor(arena: Arena, kind: string, name: string, rank: number | undefined): SharedClass {
  const bytes = encoder.encode(name);
  if (bytes.length > CLASS_NAME_BYTES) throw new RangeError(`${kind} name must be at most ${CLASS_NAME_BYTES} bytes of UTF-8 to be shared by threads, got ${bytes.length}: ${JSON.stringify(name.slice(0, 40))}...`);
  const existing = find(arena, name);
  if (existing >= 0) return checked(arena, kind, existing, name, rank);
  return withTableLock(arena, () => {
    const raced = find(arena, name);
    if (raced >= 0) return checked(arena, kind, raced, name, rank);
    const index = Atomics.load(arena.words, CLASS_COUNT);
    if (index >= CLASS_SLOTS) throw new RangeError(`deadbolt/threads: more than ${CLASS_SLOTS} named lock classes in one arena`);
    arena.classNames.set(bytes, index * CLASS_NAME_BYTES);
    arena.classRanks[index] = rank ?? Number.NaN;
    Atomics.store(arena.words, arena.classAt(index) + 1, bytes.length);
    Atomics.store(arena.words, arena.classAt(index), READY);
    Atomics.store(arena.words, CLASS_COUNT, index + 1);
    namesSeen.set(index, name);
    return { index, name, rank };
  });
}

function checked(arena: Arena, kind: string, index: number, name: string, rank: number | undefined): SharedClass {
  const shared = rankAt(arena, index);
  if (rank !== undefined && rank !== shared) {
    throw new TypeError(
      `${kind} "${name}": lock class "${name}" already has ${shared === undefined ? 'no rank' : `rank ${shared}`} in this program's threads; a new lock declares rank ${rank}. Locks that share a name share one rank, in every thread.`,
    );
  }
  return { index, name, rank: shared };
}

/** Names of unnamed locks this thread created or adopted (they have no class in the table). */
const unnamed = new Map<number, string>();

/** Remembers the label of an unnamed lock for this thread's reports. */
export function rememberLockName(lock: number, name: string): void {
  unnamed.set(lock, name);
}

/** The name a report gives `lock`: its shared class name, in any thread. */
export function lockName(arena: Arena, lock: number): string {
  const index = arena.classOf(lock);
  if (index >= 0) return nameAt(arena, index);
  return unnamed.get(lock) ?? `shared lock #${lock}`;
}
