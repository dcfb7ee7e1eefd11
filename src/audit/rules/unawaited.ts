/*
 * unawaited-lock-promise through wrappers: `try { return this.withLock(fn) } finally { ... }`
 * where withLock turned out (interprocedurally) to run fn under a lock. The direct cases are
 * reported by the walker (local-rules.ts).
 */
import { makeFinding } from '../fingerprint.js';
import { displayName } from '../model.js';
import type { Summaries } from '../summaries.js';
import type { Finding } from '../types.js';

export function unawaitedWrapperFindings(summaries: Summaries): Finding[] {
  const findings: Finding[] = [];
  for (const unit of summaries.units) {
    for (const event of unit.returnsInTry) {
      const wrapping = summaries.wrapperOf(event.callee);
      if (wrapping === undefined) continue;
      const holds = [...wrapping.values()].flatMap((w) => w.holds);
      const labels = [...new Set(holds.map((h) => h.label))].join(', ');
      findings.push(
        makeFinding({
          ruleId: 'unawaited-lock-promise',
          message: `The promise from ${event.callee.name} (which holds ${labels}) is returned without \`await\` inside try/finally: the finally runs before the locked work does.`,
          location: event.site,
          related: [{ ...event.finallySite, message: 'runs early' }],
          locks: [...new Set(holds.map((h) => h.ref.decl.id))],
          functions: [displayName(unit), event.callee.name],
          discriminator: `return-in-try:${event.callee.name}`,
        }),
      );
    }
  }
  return findings;
}
