/*
 * callback-under-lock and blocking-under-lock: user callbacks (listeners, emitted events,
 * callback parameters) or heavy synchronous work reached while a lock is held, directly or through
 * calls. Flags are left out: a re-entrancy guard that notifies listeners is the guard working.
 */
import { makeFinding } from '../fingerprint.js';
import { displayName, type Hold, type SiteEvent, type Unit } from '../model.js';
import type { Summaries } from '../summaries.js';
import type { Finding, LabelledLocation, RuleId } from '../types.js';

function locking(holds: readonly Hold[]): Hold[] {
  return holds.filter((h) => h.mode !== 'flag');
}

function names(holds: readonly Hold[]): string {
  return [...new Set(holds.map((h) => h.label))].join(', ');
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function underLock(summaries: Summaries, ruleId: RuleId, events: (u: Unit) => readonly SiteEvent[], pathOf: (u: Unit) => readonly LabelledLocation[] | null, what: string): Finding[] {
  const findings: Finding[] = [];
  for (const unit of summaries.units) {
    for (const event of events(unit)) {
      const held = locking(summaries.effective(unit, event.held));
      if (held.length === 0) continue;
      findings.push(
        makeFinding({
          ruleId,
          message: `${sentence(event.site.message)} while ${names(held)} ${held.length > 1 ? 'are' : 'is'} held: ${what}.`,
          location: event.site,
          related: held.map((h) => h.site),
          paths: [[...(held[0]?.via ?? []), held[0]?.site as LabelledLocation, event.site]],
          locks: [...new Set(held.map((h) => h.ref.decl.id))],
          functions: [displayName(unit)],
          discriminator: event.what,
        }),
      );
    }
    for (const call of unit.calls) {
      const held = locking(summaries.effective(unit, call.held));
      if (held.length === 0) continue;
      const path = pathOf(call.callee);
      if (path === null) continue;
      const last = path[path.length - 1] as LabelledLocation;
      findings.push(
        makeFinding({
          ruleId,
          message: `${call.callee.name}() ${last.message} while ${names(held)} ${held.length > 1 ? 'are' : 'is'} held: ${what}.`,
          location: call.site,
          related: [...held.map((h) => h.site), last],
          paths: [[held[0]?.site as LabelledLocation, call.site, ...path]],
          locks: [...new Set(held.map((h) => h.ref.decl.id))],
          functions: [displayName(unit), call.callee.name],
          discriminator: `call:${call.callee.name}`,
        }),
      );
    }
  }
  return findings;
}

export function callbackFindings(summaries: Summaries): Finding[] {
  return underLock(summaries, 'callback-under-lock', (u) => u.callbacks, (u) => summaries.callbackPath(u), 'code the lock owner does not control runs under it');
}

export function blockingFindings(summaries: Summaries): Finding[] {
  return underLock(summaries, 'blocking-under-lock', (u) => u.blocking, (u) => summaries.blockingPath(u), 'it blocks the event loop and every waiter');
}
