import { AcqState, type Acquisition } from './acquisition.js';
import type { CycleStep, LockRef } from './errors.js';
import { indentStack } from './stack.js';
import type { WaitStep } from './wait-for.js';

const NO_STACK = '(site not recorded: the request was not contended; DEADBOLT_STACKS=always records every site)';

/**
 * A holder's site, or a note that it was not recorded. A report that cannot name where a lock
 * of some class was acquired turns site recording on for that class, so the next one can.
 */
function holderSite(acq: Acquisition, indent: string): string {
  if (acq.stack !== undefined && acq.stack !== '') return indentStack(acq.stack, indent, NO_STACK);
  const why = acq.state === AcqState.Waiting ? 'its flow held no lock when it queued' : 'it was not contended';
  const cls = acq.lockClass;
  if (cls.recordSites) return `${indent}(site not recorded: ${why})`;
  cls.recordSites = true;
  return `${indent}(site not recorded: ${why}; from now on deadbolt records where "${cls.name}" is acquired)`;
}

export function lockRef(acq: Acquisition): LockRef {
  const cls = acq.lockClass;
  return { id: acq.id, lock: acq.lock.label, className: cls.name, rank: cls.rank, mode: acq.mode, stack: acq.stack };
}

function heldFor(acq: Acquisition): string {
  if (acq.state !== AcqState.Held) return '';
  return `, held ~${Math.max(0, Date.now() - acq.grantTime)} ms`;
}

/** `#12 Mutex "coffer" (rank 10), exclusive, held ~3 ms` */
export function describe(acq: Acquisition): string {
  const rank = acq.lockClass.rank === undefined ? '' : ` (rank ${acq.lockClass.rank})`;
  const weight = acq.weight !== 1 ? ` x${acq.weight}` : '';
  return `#${acq.id} ${acq.lock.label}${rank}, ${acq.mode}${weight}${heldFor(acq)}`;
}

export function describeWithStack(acq: Acquisition, indent: string, verb: string): string {
  return `${indent}${describe(acq)}, ${verb} at:\n${holderSite(acq, `${indent}    `)}`;
}

export function heldSection(title: string, held: readonly Acquisition[], indent = '  '): string {
  if (held.length === 0) return `${title} nothing.`;
  return `${title}\n${held.map((acq) => describeWithStack(acq, indent, 'acquired')).join('\n')}`;
}

export function deadlockReport(request: Acquisition, steps: readonly WaitStep[], requesterHolds: readonly Acquisition[], note: string | null): string {
  const lines: string[] = [];
  lines.push(heldSection('The requesting flow holds:', requesterHolds));
  lines.push(`and requests ${describe(request)} at:\n${indentStack(request.stack, '    ', NO_STACK)}`);
  lines.push('');
  lines.push('Wait-for cycle:');
  steps.forEach((step, index) => {
    const who = index === 0 ? `this request #${step.waiter.id}` : `request #${step.waiter.id} for ${step.waiter.lock.label}`;
    const how = step.via === 'holder' ? 'waits for the holder' : 'is queued behind';
    lines.push(`  ${index + 1}. ${who} ${how}`);
    lines.push(describeWithStack(step.blocker, '       ', step.via === 'holder' ? 'acquired' : 'requested'));
    const next = steps[index + 1];
    if (next !== undefined) {
      lines.push(`     whose flow is blocked in request #${next.waiter.id} for ${next.waiter.lock.label}, requested at:`);
      lines.push(indentStack(next.waiter.stack, '         ', NO_STACK));
    } else if (requesterHolds.includes(step.blocker)) {
      lines.push('     which the requesting flow itself holds: the cycle is closed.');
    } else {
      lines.push('     whose flow is stuck in a cycle that had already formed.');
    }
  });
  if (note !== null) lines.push('', note);
  lines.push('', 'The other flows on the cycle keep waiting; they go on once this flow releases what it holds.');
  lines.push('Fix: take these locks in one order everywhere (declare ranks), or take them together with lockAll([...]).');
  return lines.join('\n');
}

export function cycleData(steps: readonly WaitStep[]): CycleStep[] {
  return steps.map((step) => ({ waiter: lockRef(step.waiter), holder: lockRef(step.blocker), via: step.via }));
}

export function timeoutReport(request: Acquisition | null, label: string, timeout: number, holders: readonly Acquisition[], queued: number): string {
  const lines = [`Waited ${timeout} ms for ${label}${request === null ? '' : ` (request #${request.id})`}.`];
  if (holders.length > 0) lines.push(heldSection('It is held by:', holders));
  else if (request === null) lines.push('Holders are tracked in checked mode only.');
  lines.push(`${queued} other request(s) are queued for it.`);
  lines.push('Hold locks for less time, or raise the timeout if this wait is expected.');
  return lines.join('\n');
}
