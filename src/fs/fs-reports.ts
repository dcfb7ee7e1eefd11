import { DeadlockError, LockTimeoutError, type CycleStep, type LockRef } from '../discipline/errors.js';
import { channels, publish } from '../discipline/events.js';
import { holdersOf } from './lock-metadata.js';
import { thisProcess } from './process-info.js';
import type { CycleMember } from './wait-registry.js';

function who(member: CycleMember): string {
  const me = thisProcess();
  return member.pid === me.pid && member.host === me.host ? `pid ${member.pid} (this process)` : `pid ${member.pid} on ${member.host}`;
}

function ref(member: CycleMember, path: string, mode: 'exclusive' | 'shared', id: number): LockRef {
  return { id, lock: `FileLock "${path}" (${who(member)})`, className: member.wait.label, rank: undefined, mode, stack: undefined };
}

/**
 * The error for the victim of a cross-process cycle: every member, what it waits for and what
 * it holds, in the style of the in-process reports.
 */
export function crossProcessDeadlock(cycle: readonly CycleMember[], now: number): DeadlockError {
  const first = cycle[0] as CycleMember;
  const lines = ['Cross-process wait-for cycle (each waits for a file lock that the next one holds):'];
  const steps: CycleStep[] = [];
  cycle.forEach((member, index) => {
    const next = cycle[(index + 1) % cycle.length] as CycleMember;
    const held = next.wait.holds.find((hold) => hold.path === member.wait.path);
    lines.push(
      `  ${who(member)} waits for ${member.wait.path} (${member.wait.mode}) for ${Math.max(0, now - member.wait.since)} ms,`,
      `    holding ${member.wait.holds.map((hold) => `${hold.path} (${hold.mode})`).join(', ')}`,
      `    -> ${member.wait.path} is held ${held?.mode ?? ''} by ${who(next)}`,
    );
    steps.push({ waiter: ref(member, member.wait.path, member.wait.mode, index), holder: ref(next, member.wait.path, held?.mode ?? 'exclusive', index + 1), via: 'holder' });
  });
  lines.push(
    '',
    'This wait began last, so it was chosen as the victim; the other processes keep waiting and go on once this flow releases what it holds.',
    'Fix: take file locks in one order in every process (give them ranks), or hold one at a time.',
  );
  const error = new DeadlockError(`deadlock across processes: FileLock "${first.wait.path}" would wait forever`, lines.join('\n'), steps);
  publish(channels.deadlock, { error });
  return error;
}

/** A wait for the OS lock timed out: name the holders recorded beside the lock. */
export function osTimeout(label: string, path: string, mode: 'exclusive' | 'shared', timeout: number): LockTimeoutError {
  const holders = holdersOf(path);
  const lines = [`Waited ${timeout} ms for ${label} (${mode}), lock file ${path}.`];
  if (holders.length === 0) {
    lines.push('Held by another process that has not recorded itself (holds shorter than ~5 ms are not recorded), or by a non-deadbolt process.');
  } else {
    lines.push('Held by (from the holder records beside the lock):');
    for (const holder of holders) lines.push(`  pid ${holder.pid} on ${holder.host}: ${holder.mode} since ${holder.since} as "${holder.name}"${holder.alive ? '' : ' (dead: its lock is free again, the record is stale)'}`);
  }
  const error = new LockTimeoutError(`timed out after ${timeout} ms waiting for ${label}`, lines.join('\n'), timeout, label);
  publish(channels.timeout, { error });
  return error;
}
