import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who this process is, in the terms other processes use to tell whether a published record
 * (lock metadata, a wait) still belongs to a live process. A pid alone is not enough: pids are
 * reused, so a record also carries its process's start time where the OS exposes it (Linux
 * /proc), and a record whose pid is alive but started at another time is stale.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly host: string;
  /** Process start time in clock ticks since boot (Linux), or null where it cannot be read. */
  readonly started: number | null;
}

let self: ProcessIdentity | null = null;

/** This process. Computed once; a forked child is a new module instance, so it gets its own. */
export function thisProcess(): ProcessIdentity {
  if (self === null || self.pid !== process.pid) {
    self = { pid: process.pid, host: hostname(), started: processStartTime(process.pid) };
  }
  return self;
}

/** Start time of `pid` from /proc/<pid>/stat (field 22), or null if unreadable. */
export function processStartTime(pid: number): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const started = Number(fields[19]);
    return Number.isFinite(started) ? started : null;
  } catch {
    return null;
  }
}

/**
 * Whether the process that wrote a record is still running. Records from other hosts cannot be
 * checked from here and count as alive: clean-up must never remove what it cannot prove dead.
 */
export function isAlive(record: { readonly pid: number; readonly host: string; readonly started?: number | null }): boolean {
  if (record.host !== thisProcess().host) return true;
  if (!Number.isInteger(record.pid) || record.pid <= 0) return false;
  try {
    process.kill(record.pid, 0);
  } catch (error) {
    // Only ESRCH proves the process gone; EPERM means it exists under another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (record.started === undefined || record.started === null) return true;
  const started = processStartTime(record.pid);
  return started === null || started === record.started;
}
