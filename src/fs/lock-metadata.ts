import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isAlive, thisProcess } from './process-info.js';
import { pruneDeadWaits } from './wait-registry.js';

/**
 * Holder metadata: beside each lock file `X`, a directory `X.holders` with one JSON file per
 * process that holds `X`. It is for people and tools (`inspectLocks`, reports on timeouts); the
 * OS lock is the truth. The kernel frees a dead holder's lock by itself, so a dead holder's file
 * is only stale diagnostics, and `cleanStaleLocks` removes exactly those.
 */
export interface LockHolder {
  /** The lock file. */
  readonly lock: string;
  /** The lock's class name in the holding process. */
  readonly name: string;
  readonly mode: 'exclusive' | 'shared';
  readonly pid: number;
  readonly host: string;
  /** Process start time (clock ticks since boot, Linux) that tells a reused pid apart. */
  readonly started: number | null;
  /** When the process took the OS lock (ISO 8601). */
  readonly since: string;
  /** Whether the holder is still running (a holder on another host counts as running). */
  readonly alive: boolean;
}

/** One lock file of a directory and who holds it. */
export interface LockInfo {
  readonly lock: string;
  readonly holders: readonly LockHolder[];
}

const SUFFIX = '.holders';

export function holdersDir(lockPath: string): string {
  return lockPath + SUFFIX;
}

function holderFile(lockPath: string): string {
  const me = thisProcess();
  return join(holdersDir(lockPath), `${me.pid}@${me.host}.json`);
}

/** Writes this process's holder record for `lockPath`; returns false if it could not. */
export function writeHolderRecord(lockPath: string, name: string, mode: 'exclusive' | 'shared', since: number): boolean {
  const me = thisProcess();
  const record = { lock: lockPath, name, mode, pid: me.pid, host: me.host, started: me.started, since: new Date(since).toISOString() };
  const text = JSON.stringify(record);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(holderFile(lockPath), text);
      return true;
    } catch (error) {
      // The directory is made on first need (and a clean-up elsewhere may not have run yet).
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
      try {
        mkdirSync(holdersDir(lockPath), { recursive: true });
      } catch {
        return false;
      }
    }
  }
  return false;
}

export function removeHolderRecord(lockPath: string): void {
  try {
    unlinkSync(holderFile(lockPath));
  } catch {
    // Already gone (a clean-up of this pid's records, or never written): nothing to undo.
  }
}

function readHolders(lockPath: string): LockHolder[] {
  let names: string[];
  try {
    names = readdirSync(holdersDir(lockPath));
  } catch {
    return [];
  }
  const holders: LockHolder[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const raw = JSON.parse(readFileSync(join(holdersDir(lockPath), name), 'utf8')) as Omit<LockHolder, 'alive'>;
      if (typeof raw.pid !== 'number' || typeof raw.host !== 'string') continue;
      holders.push({ ...raw, lock: lockPath, alive: isAlive(raw) });
    } catch {
      // Half-written by a holder that is writing it right now, or removed meanwhile: skip.
    }
  }
  return holders;
}

/** Holders of one lock file, as recorded beside it. Synchronous: used in timeout reports. */
export function holdersOf(lockPath: string): LockHolder[] {
  return readHolders(resolve(lockPath));
}

/**
 * Lists the lock files in `dir` that have holder metadata, and who holds each (with `alive`).
 * A holder records itself a few milliseconds after it takes the lock, so a very short hold may
 * not show.
 *
 * @example
 * for (const { lock, holders } of await inspectLocks('/var/lib/app')) {
 *   for (const h of holders) console.log(lock, h.mode, `pid ${h.pid}`, h.alive ? '' : '(dead)');
 * }
 */
export async function inspectLocks(dir: string): Promise<LockInfo[]> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`inspectLocks(dir): dir must be a non-empty string, got ${String(dir)}`);
  const base = resolve(dir);
  const entries = await readdir(base, { withFileTypes: true });
  const locks: LockInfo[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.endsWith(SUFFIX)) continue;
    const lock = join(base, entry.name.slice(0, -SUFFIX.length));
    locks.push({ lock, holders: readHolders(lock) });
  }
  return locks.sort((a, b) => a.lock.localeCompare(b.lock));
}

/**
 * Removes the holder records of dead processes in `dir` (and their stale entries in the
 * cross-process wait registry). It never touches a lock file: the OS lock of a dead holder was
 * released by the kernel already, and unlinking a lock file lets two processes hold "the same"
 * lock. Records of live processes, and of processes on other hosts, are kept.
 *
 * @returns the removed record files.
 * @example
 * const removed = await cleanStaleLocks('/var/lib/app');
 */
export async function cleanStaleLocks(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const { lock } of await inspectLocks(dir)) {
    let names: string[];
    try {
      names = readdirSync(holdersDir(lock));
    } catch {
      continue;
    }
    for (const name of names) {
      const file = join(holdersDir(lock), name);
      if (!name.endsWith('.json') || isAlive(recordOwner(file, name))) continue;
      try {
        unlinkSync(file);
        removed.push(file);
      } catch {
        // Removed by a concurrent clean-up.
      }
    }
  }
  removed.push(...pruneDeadWaits());
  return removed;
}

/**
 * Who wrote a record: from its content, else from its name (`<pid>@<host>.json`), which is all
 * that is left of a record torn by a holder killed while writing it.
 */
function recordOwner(file: string, name: string): { pid: number; host: string; started?: number | null } {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; host?: unknown; started?: unknown };
    if (typeof raw.pid === 'number' && typeof raw.host === 'string') return { pid: raw.pid, host: raw.host, started: typeof raw.started === 'number' ? raw.started : null };
  } catch {
    // Torn or unreadable: fall back to the name.
  }
  const match = /^(\d+)@(.+)\.json$/.exec(name);
  // A name that is not ours says nothing about a process: treat it as alive, so it is kept.
  return match === null ? { pid: process.pid, host: thisProcess().host } : { pid: Number(match[1]), host: match[2] as string };
}
