import type { Acquisition } from '../discipline/acquisition.js';
import type { LockRef } from '../discipline/errors.js';
import { describeWithStack, lockRef } from '../discipline/report.js';
import { state } from '../discipline/state.js';
import { currentArena } from './arena.js';
import { lockNames } from './futex-word.js';
import { SharedMutexCore } from './shared-mutex.js';

/** The locks a stall report names, as data and as report lines. */
export interface StallLocks {
  readonly locks: LockRef[];
  readonly lines: string[];
}

/**
 * The locks this thread held during a stall, seen once it is over. Checked mode knows every
 * held acquisition (the engine's held list, core and shared locks alike), plus a sample of the
 * ones taken and released within one watchdog tick (the core watchdog's own suspects, kept only
 * while `loopBlockWarnMs` > 0 and until the watchdog's next tick). Shared mutexes this thread
 * owns are also found in the arena, which fast mode still maintains.
 */
export function locksDuringStall(): StallLocks {
  const locks: LockRef[] = [];
  const lines: string[] = [];
  const seen = new Set<Acquisition>();
  const sharedSeen = new Set<number>();
  const add = (acq: Acquisition): void => {
    if (seen.has(acq)) return;
    seen.add(acq);
    if (acq.lock instanceof SharedMutexCore) sharedSeen.add(acq.lock.lock);
    locks.push(lockRef(acq));
    lines.push(describeWithStack(acq, '  ', 'acquired'));
  };
  if (state.config.checks) {
    for (let acq = state.heldHead; acq !== null; acq = acq.nextHeld) add(acq);
    for (const acq of state.sameTickReleases) add(acq);
  }
  for (const ref of sharedMutexesOwnedHere(sharedSeen)) {
    locks.push(ref);
    lines.push(`  ${ref.lock}${ref.rank === undefined ? '' : ` (rank ${ref.rank})`}, exclusive, owned by this thread (untracked hold: found in the shared arena)`);
  }
  return { locks, lines };
}

/**
 * Shared mutexes whose futex word names this thread as owner, beyond those in `known`. Only
 * locks labelled as SharedMutex by this thread are read: other shared primitives may lay their
 * words out differently, and a word read as a mutex's would name a false owner.
 */
function sharedMutexesOwnedHere(known: ReadonlySet<number>): LockRef[] {
  const shared = currentArena();
  if (shared === null) return [];
  const found: LockRef[] = [];
  for (const [lock, label] of lockNames) {
    if (known.has(lock) || !label.startsWith('SharedMutex ') || shared.ownerOf(lock) !== shared.slot) continue;
    const className = /^SharedMutex "(.*)"$/.exec(label)?.[1] ?? label;
    // id 0: no acquisition record exists for an untracked hold.
    found.push({ id: 0, lock: label, className, rank: shared.rankOf(lock), mode: 'exclusive', stack: undefined });
  }
  return found;
}
