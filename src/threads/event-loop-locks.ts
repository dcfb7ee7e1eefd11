import type { Acquisition } from '../discipline/acquisition.js';
import type { LockRef } from '../discipline/errors.js';
import { describeWithStack, lockRef } from '../discipline/report.js';
import { state } from '../discipline/state.js';
import { heldSharedCores, isSharedLockCore } from './shared-lock-core.js';

/** The locks a stall report names, as data and as report lines. */
export interface StallLocks {
  readonly locks: LockRef[];
  readonly lines: string[];
}

/**
 * The locks this thread held during a stall, seen once it is over. Checked mode knows every
 * held acquisition (the engine's held list, core and shared locks alike), and the latest
 * releases: those since release number `sinceRelease` (the count when the watch last looked,
 * before the stall) were held during it, or just before it. Shared locks of every kind that
 * this thread holds are also found through its shared lock cores, which fast mode still keeps.
 */
export function locksDuringStall(sinceRelease: number): StallLocks {
  const locks: LockRef[] = [];
  const lines: string[] = [];
  const seen = new Set<Acquisition>();
  const sharedSeen = new Set<number>();
  const add = (acq: Acquisition): void => {
    if (seen.has(acq)) return;
    seen.add(acq);
    if (isSharedLockCore(acq.lock)) sharedSeen.add(acq.lock.lock);
    locks.push(lockRef(acq));
    lines.push(describeWithStack(acq, '  ', 'acquired'));
  };
  if (state.config.checks) {
    for (let acq = state.heldHead; acq !== null; acq = acq.nextHeld) add(acq);
    // Taken and released within the stall (or in the last detector interval before it).
    const recent = state.recentReleases;
    for (let i = 0; i < recent.acqs.length; i++) {
      const acq = recent.acqs[i];
      if (acq !== undefined && (recent.seqs[i] as number) >= sinceRelease) add(acq);
    }
  }
  for (const ref of sharedLocksHeldHere(sharedSeen)) {
    locks.push(ref);
    lines.push(`  ${ref.lock}${ref.rank === undefined ? '' : ` (rank ${ref.rank})`}, ${ref.mode}, held by this thread (untracked hold: lock tracking is off)`);
  }
  return { locks, lines };
}

/**
 * Shared locks (of any kind) this thread holds a share of, beyond those in `known`: each shared
 * lock's in-thread core counts the guards holding its cross-thread word, in fast mode too.
 */
function sharedLocksHeldHere(known: ReadonlySet<number>): LockRef[] {
  const found: LockRef[] = [];
  for (const core of heldSharedCores()) {
    // id 0: no acquisition record exists for an untracked hold.
    if (!known.has(core.lock)) found.push({ id: 0, lock: core.label, className: core.name ?? core.label, rank: core.rank, mode: core.exclusive ? 'exclusive' : 'shared', stack: undefined });
  }
  return found;
}
