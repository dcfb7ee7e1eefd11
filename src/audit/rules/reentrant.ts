/*
 * reentrant-acquire: a lock requested while the same lock (same instance: this receiver, the same
 * module binding, or the same local) is certainly held on the path, directly or through calls.
 * Semaphores, reentrant locks, flags and per-key families are left out: a second hold there is
 * not a certain deadlock.
 */
import { makeFinding } from '../fingerprint.js';
import { displayName, throughReceiver, type Hold, type LockRef, type Unit } from '../model.js';
import type { Summaries } from '../summaries.js';
import type { Finding, LabelledLocation } from '../types.js';

function sameInstance(a: LockRef, b: LockRef): boolean {
  if (a.decl !== b.decl || a.key !== b.key) return false;
  if (a.decl.family && a.key === undefined) return false;
  return a.instance === b.instance && a.instance !== 'other';
}

function selfDeadlocks(hold: Hold, ref: LockRef): boolean {
  const def = ref.decl.def;
  return hold.certain && hold.mode !== 'flag' && !def.reentrant && def.exclusive && sameInstance(hold.ref, ref);
}

export function reentrantFindings(summaries: Summaries): Finding[] {
  const findings: Finding[] = [];
  const report = (unit: Unit, hold: Hold, label: string, path: LabelledLocation[], location: LabelledLocation, through?: string): void => {
    findings.push(
      makeFinding({
        ruleId: 'reentrant-acquire',
        message: through !== undefined ? `${label} is requested again through ${through} while ${displayName(unit)} already holds it: the flow deadlocks on itself.` : `${label} is requested again while it is already held on this path: the flow deadlocks on itself.`,
        location,
        related: [hold.site],
        paths: [path],
        locks: [hold.ref.decl.id],
        functions: [displayName(unit), ...(through !== undefined ? [through] : [])],
        discriminator: `${hold.lockKey}`,
      }),
    );
  };
  for (const unit of summaries.units) {
    for (const event of unit.acquires) {
      if (event.mode !== 'block') continue;
      const hold = summaries.effective(unit, event.held).find((h) => selfDeadlocks(h, event.ref));
      if (hold !== undefined) report(unit, hold, event.label, [hold.site, ...(hold.via ?? []), event.site, ...(event.via ?? [])], event.site);
    }
    for (const call of unit.calls) {
      const held = summaries.effective(unit, call.held);
      if (held.length === 0) continue;
      for (const [, reach] of summaries.reach(call.callee)) {
        const ref = throughReceiver(reach.ref, call.sameReceiver);
        const hold = held.find((h) => selfDeadlocks(h, ref));
        if (hold !== undefined) report(unit, hold, reach.label, [hold.site, ...(hold.via ?? []), call.site, ...reach.path], call.site, call.callee.name);
      }
    }
  }
  return findings;
}
