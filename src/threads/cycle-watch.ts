import { cycleThrough, reachable } from '../discipline/cycle-search.js';
import { DeadlockError, type CycleStep } from '../discipline/errors.js';
import { channels, publish } from '../discipline/events.js';
import type { Arena, WaitRecord } from './arena.js';
import { lockName } from './class-table.js';

/** Longest single wait slice; also how often a queued in-thread wait re-checks for cycles. */
export const SLICE_MS = 1;
/** A cycle whose chosen victim has not given way after this long is broken by any member. */
const VICTIM_GRACE_MS = 100;

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
    const found = findCycle(this.arena, this.wait);
    if (found === null) {
      this.#key = '';
      return;
    }
    const { cycle, members } = found;
    const key = members.map((member) => member.wait).join(' ');
    const now = Date.now();
    if (key !== this.#key) {
      this.#key = key;
      this.#seen = now;
    }
    // The victim is chosen among every wait of the deadlock, not only those on this path: with
    // shared holds, two members can find two different paths through the same deadlock.
    const victim = members.reduce((a, b) => (b.since > a.since || (b.since === a.since && b.wait > a.wait) ? b : a));
    if (victim.wait === this.wait) throw crossThreadDeadlock(this.arena, cycle, label, null);
    if (now - this.#seen > VICTIM_GRACE_MS) throw crossThreadDeadlock(this.arena, cycle, label, victim);
  }
}

/** A deadlock through one wait: a cycle for the report, and every wait of the deadlock. */
export interface FoundCycle {
  /** Starting with the wait checked: each waits for a lock the next one's flow holds. */
  readonly cycle: WaitRecord[];
  /** Every stuck wait that both blocks and is blocked by the checked one (its strongly connected component). */
  readonly members: WaitRecord[];
}

/**
 * The deadlock through wait `start`, or null.
 *
 * A wait is only stuck if every holder of its lock is stuck: a semaphore or read lock held by
 * several threads is released as soon as any one of them goes on. So the waits that could still
 * make progress are pruned first (a wait is kept while, for each thread holding its lock, that
 * thread's kept waits account for every guard by which it holds it), and the cycle is searched
 * among the rest. For mutexes this is the plain cycle search.
 */
export function findCycle(arena: Arena, start: number): FoundCycle | null {
  const waits = arena.waits();
  const first = waits.find((record) => record.wait === start);
  if (first === undefined || first.held.length === 0) return null;
  const holders = new Map<number, Map<number, number>>();
  const holdersOf = (lock: number): Map<number, number> => {
    let found = holders.get(lock);
    if (found === undefined) holders.set(lock, (found = arena.holdersOf(lock)));
    return found;
  };
  const stuck = new Set(waits);
  const isBlocked = (record: WaitRecord): boolean => {
    const lockHolders = holdersOf(record.lock);
    if (lockHolders.size === 0) return false;
    for (const [slot, guards] of lockHolders) {
      let accounted = 0;
      for (const other of stuck) if (other.slot === slot) for (const lock of other.held) if (lock === record.lock) accounted++;
      if (accounted < guards) return false;
    }
    return true;
  };
  for (let changed = true; changed && stuck.has(first); ) {
    changed = false;
    for (const record of stuck) {
      if (!isBlocked(record)) {
        stuck.delete(record);
        changed = true;
      }
    }
  }
  if (!stuck.has(first)) return null;
  // The owner threads' stuck flows that hold the lock (in the owner's own thread too: a flow
  // queued behind another flow of its thread waits for that flow).
  const blockers = (record: WaitRecord): WaitRecord[] => {
    const lockHolders = holdersOf(record.lock);
    return [...stuck].filter((other) => lockHolders.has(other.slot) && other.held.includes(record.lock));
  };
  const path = cycleThrough(first, blockers);
  if (path === null) return null;
  const forward = reachable(first, blockers);
  const backward = reachable(first, (record) => [...stuck].filter((other) => blockers(other).includes(record)));
  return { cycle: path, members: [...forward].filter((record) => backward.has(record)) };
}

/** `overdue`: the chosen victim when it has not given way in time and this wait gives way instead. */
function crossThreadDeadlock(arena: Arena, cycle: readonly WaitRecord[], label: string, overdue: WaitRecord | null): DeadlockError {
  const now = Date.now();
  const thread = (slot: number): string => `thread ${arena.threadIdOf(slot)}${slot === arena.slot ? ' (this thread)' : ''}`;
  const name = (lock: number): string => lockName(arena, lock);
  const lines = ['Cross-thread wait-for cycle (each waits for a shared lock that the next one holds):'];
  const steps: CycleStep[] = [];
  cycle.forEach((record, index) => {
    const next = cycle[(index + 1) % cycle.length] as WaitRecord;
    const holders = [...arena.holdersOf(record.lock).keys()].map(thread);
    lines.push(
      `  ${thread(record.slot)} waits for ${name(record.lock)} for ${Math.max(0, now - record.since)} ms, holding ${[...new Set(record.held)].map(name).join(', ')}`,
      `    -> ${name(record.lock)} is held by ${holders.length > 1 ? `${holders.join(', ')} (all of them blocked)` : thread(next.slot)}`,
    );
    const ref = (slot: number, lock: number, id: number) => ({ id, lock: `${name(lock)} (${thread(slot)})`, className: name(lock), rank: arena.rankOf(lock), mode: 'exclusive' as const, stack: undefined });
    steps.push({ waiter: ref(record.slot, record.lock, index), holder: ref(next.slot, record.lock, index + 1), via: 'holder' });
  });
  const why =
    overdue === null
      ? 'This wait began last, so it is the victim'
      : `The wait that began last (${thread(overdue.slot)}, for ${name(overdue.lock)}) did not give way within ${VICTIM_GRACE_MS} ms, so this one does`;
  lines.push('', `${why}; the other threads keep waiting and go on once this one releases what it holds.`, 'Fix: take shared locks in one order in every thread (give them ranks).');
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
