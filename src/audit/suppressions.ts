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
  // Markers come in text order: count newlines only between one marker and the next.
  let line = 1;
  let counted = 0;
  for (const match of text.matchAll(MARKER)) {
    for (let at = text.indexOf('\n', counted); at !== -1 && at < match.index; at = text.indexOf('\n', at + 1)) line++;
    counted = match.index;
    const rules = (match[1] ?? '').split('--')[0]!.split(/[\s,]+/).filter((word) => word !== '');
    lines.set(line + 1, rules.length === 0 ? null : new Set(rules));
  }
  return lines;
}

/**
 * The findings not silenced by a comment above their location or any step of their paths, each
 * place looked up in its own file (`texts`: file -> source text).
 */
export function applySuppressions(findings: readonly Finding[], texts: ReadonlyMap<string, string>): Finding[] {
  const perFile = new Map<string, Map<number, Set<string> | null>>();
  const linesOf = (file: string): Map<number, Set<string> | null> => {
    let lines = perFile.get(file);
    if (lines === undefined) perFile.set(file, (lines = suppressedLines(texts.get(file) ?? '')));
    return lines;
  };
  return findings.filter((finding) => {
    for (const place of [finding.location, ...finding.paths.flat()]) {
      const lines = linesOf(place.file);
      if (!lines.has(place.line)) continue;
      const rules = lines.get(place.line);
      if (rules === null || rules?.has(finding.ruleId satisfies RuleId)) return false;
    }
    return true;
  });
}
