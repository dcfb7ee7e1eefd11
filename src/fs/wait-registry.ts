import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cycleThrough } from '../discipline/cycle-search.js';
import { fsState } from './fs-state.js';
import { isAlive, thisProcess } from './process-info.js';

/*
 * The cross-process wait-for graph. A process whose flow waits for an OS file lock while it
 * holds other file locks publishes that wait, with what the flow holds, in one host-wide
 * directory: one JSON file per process, rewritten (temp + rename) whenever its waits change. A
 * waiter reads every file and looks for a cycle through its own wait: it waits for a lock that a
 * flow of another process holds, that flow waits for a lock held by the next, and so on back to
 * a lock this flow holds. Holders that are not waiting are never on a cycle, so only waits of
 * flows that hold something are published: plain contention writes nothing.
 *
 * Only checked mode knows what a flow holds, so only checked mode publishes and detects.
 */

export interface PublishedHold {
  readonly path: string;
  readonly mode: 'exclusive' | 'shared';
}

export interface PublishedWait {
  /** Unique across processes: `<pid>@<host>#<n>`. */
  readonly id: string;
  readonly path: string;
  readonly mode: 'exclusive' | 'shared';
  /** Lock label, for reports. */
  readonly label: string;
  /** Epoch ms when the OS wait began. */
  readonly since: number;
  readonly holds: readonly PublishedHold[];
}

interface ProcessWaits {
  readonly pid: number;
  readonly host: string;
  readonly started: number | null;
  readonly waits: readonly PublishedWait[];
}

/** A wait on a cycle, with its process. */
export interface CycleMember {
  readonly wait: PublishedWait;
  readonly pid: number;
  readonly host: string;
}

/**
 * The registry directory. One per user by default (records of another user's processes could
 * not be checked or cleaned); `DEADBOLT_FS_REGISTRY` points every cooperating process elsewhere.
 */
export function registryDir(): string {
  const configured = process.env.DEADBOLT_FS_REGISTRY;
  if (configured !== undefined && configured !== '') return configured;
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return join(tmpdir(), `deadbolt-${user}`, 'waits');
}

const mine = fsState.waits;

export function newWaitId(): string {
  const me = thisProcess();
  return `${me.pid}@${me.host}#${fsState.nextWait++}`;
}

function ownFile(dir: string): string {
  const me = thisProcess();
  return join(dir, `${me.pid}@${me.host}.json`);
}

function publish(): void {
  const dir = registryDir();
  const file = ownFile(dir);
  if (mine.size === 0) {
    if (!fsState.published) return;
    fsState.published = false;
    try {
      unlinkSync(file);
    } catch {
      // Pruned by a clean-up, or never written.
    }
    return;
  }
  const me = thisProcess();
  const body: ProcessWaits = { pid: me.pid, host: me.host, started: me.started, waits: [...mine.values()] };
  const temp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(temp, JSON.stringify(body));
    renameSync(temp, file);
    fsState.published = true;
  } catch {
    // Detection is best effort: an unwritable registry only means this wait cannot be seen.
  }
}

export function addWait(wait: PublishedWait): void {
  mine.set(wait.id, wait);
  publish();
}

export function removeWait(id: string): void {
  if (mine.delete(id)) publish();
}

/** A lock this process held was released: no published wait may still claim it. */
export function forgetHold(path: string): void {
  let changed = false;
  for (const [id, wait] of mine) {
    if (!wait.holds.some((hold) => hold.path === path)) continue;
    mine.set(id, { ...wait, holds: wait.holds.filter((hold) => hold.path !== path) });
    changed = true;
  }
  if (changed) publish();
}

function readOthers(dir: string): ProcessWaits[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const own = `${thisProcess().pid}@${thisProcess().host}.json`;
  const others: ProcessWaits[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name === own) continue;
    try {
      const record = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProcessWaits;
      if (Array.isArray(record.waits) && isAlive(record)) others.push(record);
    } catch {
      // Removed while listing; the next pass sees the new state.
    }
  }
  return others;
}

function conflicts(a: 'exclusive' | 'shared', b: 'exclusive' | 'shared'): boolean {
  return a === 'exclusive' || b === 'exclusive';
}

/**
 * The cycle through this process's wait `id`, starting with it, or null. Each member waits for a
 * lock that the next member's flow holds; the last waits for one that the first holds.
 */
export function findCrossProcessCycle(id: string): CycleMember[] | null {
  const start = mine.get(id);
  if (start === undefined || start.holds.length === 0) return null;
  const me = thisProcess();
  const members: CycleMember[] = [...mine.values()].map((wait) => ({ wait, pid: me.pid, host: me.host }));
  for (const record of readOthers(registryDir())) for (const wait of record.waits) members.push({ wait, pid: record.pid, host: record.host });
  const startMember = members.find((member) => member.wait.id === id) as CycleMember;
  // Blocked on `member`: the waits whose flows hold what `member` waits for, in a conflicting mode.
  const blockers = (member: CycleMember): CycleMember[] =>
    members.filter((other) => other !== member && other.wait.holds.some((hold) => hold.path === member.wait.path && conflicts(hold.mode, member.wait.mode)));
  return cycleThrough(startMember, blockers);
}

/** The member that gives way: the wait that began last (it closed the cycle), ties by id. */
export function chooseVictim(cycle: readonly CycleMember[]): CycleMember {
  return cycle.reduce((a, b) => (b.wait.since > a.wait.since || (b.wait.since === a.wait.since && b.wait.id > a.wait.id) ? b : a));
}

/** Removes registry files of processes that are no longer running; returns them. */
export function pruneDeadWaits(): string[] {
  const dir = registryDir();
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const file = join(dir, name);
    try {
      if (name.endsWith('.tmp')) {
        const pid = Number(name.split('.').at(-2));
        if (isAlive({ pid, host: thisProcess().host })) continue;
      } else {
        if (!name.endsWith('.json')) continue;
        const record = JSON.parse(readFileSync(file, 'utf8')) as ProcessWaits;
        if (isAlive(record)) continue;
      }
      unlinkSync(file);
      removed.push(file);
    } catch {
      // Unreadable for a moment (being replaced) or already gone.
    }
  }
  return removed;
}
