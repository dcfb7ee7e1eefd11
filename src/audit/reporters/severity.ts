/*
 * Severity order and the `--fail-on` threshold, shared by the reporters (sorting, summaries) and
 * the CLI (exit codes).
 */
import type { Finding, Severity } from '../types.js';

/** Every severity, worst first. */
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'note'];

/** What `--fail-on` accepts: a severity, or `none` to never fail on findings. */
export type FailOn = Severity | 'none';
export const FAIL_ON_VALUES: readonly FailOn[] = [...SEVERITIES, 'none'];

/** 0 for error, 1 for warning, 2 for note: lower is worse. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/**
 * True if `finding` is at or above the `failOn` threshold.
 *
 * @example
 * failsAt({ severity: 'warning' } as Finding, 'error'); // false
 * failsAt({ severity: 'warning' } as Finding, 'note'); // true
 */
export function failsAt(finding: Pick<Finding, 'severity'>, failOn: FailOn): boolean {
  return failOn !== 'none' && severityRank(finding.severity) <= severityRank(failOn);
}

/** Counts of findings per severity. */
export function countBySeverity(findings: readonly Pick<Finding, 'severity'>[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { error: 0, warning: 0, note: 0 };
  for (const finding of findings) counts[finding.severity]++;
  return counts;
}

/** "2 errors, 1 warning, 0 notes" */
export function formatCounts(counts: Record<Severity, number>): string {
  return SEVERITIES.map((s) => `${counts[s]} ${s}${counts[s] === 1 ? '' : 's'}`).join(', ');
}

/** Findings sorted by file, line, column, then severity (worst first) and rule id: a stable report order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      compareText(a.location.file, b.location.file) ||
      a.location.line - b.location.line ||
      a.location.column - b.location.column ||
      severityRank(a.severity) - severityRank(b.severity) ||
      compareText(a.ruleId, b.ruleId) ||
      compareText(a.message, b.message),
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
