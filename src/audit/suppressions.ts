import type { Finding, RuleId } from './types.js';

/**
 * Inline suppressions: `// deadbolt-ignore-next-line <rule>[, <rule>...] [-- why]` above the line
 * a finding points at, or above any step of its paths (an inversion has two: annotate the one
 * that is deliberate), silences those rules there (every rule when none is named). A misspelt
 * rule id silences nothing, so the finding stays visible. Use it for code that breaks a rule on
 * purpose, such as a demo that stages a deadlock; prefer fixing the code.
 *
 * @example
 * // deadbolt-ignore-next-line lock-order-inversion -- staged for the demo
 * await b.runExclusive(() => a.runExclusive(work));
 */
const MARKER = /\/\/\s*deadbolt-ignore-next-line\b([^\n]*)/g;

/** Line (1-based, the line after the comment) -> the rules silenced there (null: all). */
function suppressedLines(text: string): Map<number, Set<string> | null> {
  const lines = new Map<number, Set<string> | null>();
  if (!text.includes('deadbolt-ignore-next-line')) return lines;
  for (const match of text.matchAll(MARKER)) {
    const line = text.slice(0, match.index).split('\n').length + 1;
    const rules = (match[1] ?? '').split('--')[0]!.split(/[\s,]+/).filter((word) => word !== '');
    lines.set(line, rules.length === 0 ? null : new Set(rules));
  }
  return lines;
}

/** The findings not silenced by a comment in their file (`texts`: file -> source text). */
export function applySuppressions(findings: readonly Finding[], texts: ReadonlyMap<string, string>): Finding[] {
  const perFile = new Map<string, Map<number, Set<string> | null>>();
  return findings.filter((finding) => {
    const file = finding.location.file;
    let lines = perFile.get(file);
    if (lines === undefined) perFile.set(file, (lines = suppressedLines(texts.get(file) ?? '')));
    const places = [finding.location, ...finding.paths.flat()].filter((place) => place.file === file);
    for (const place of places) {
      if (!lines.has(place.line)) continue;
      const rules = lines.get(place.line);
      if (rules === null || rules?.has(finding.ruleId satisfies RuleId)) return false;
    }
    return true;
  });
}
