/*
 * The `text` format: what a person reads in a terminal. Findings grouped by file (worst first
 * within a line), each with its rule, explanation, fix and the other places involved; then the
 * lock inventory and a summary. Colour is optional (ANSI SGR), decided by the caller.
 */
import type { AuditResult, Finding, LabelledLocation, LockInventoryRow, Severity, SourceLocation } from '../types.js';
import { countBySeverity, SEVERITIES, sortFindings } from './severity.js';

export interface TextOptions {
  /** ANSI colours; default false. */
  readonly color?: boolean;
  /** Only the findings (no inventory, no summary when there is nothing to report). */
  readonly quiet?: boolean;
}

interface Paint {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly underline: (s: string) => string;
  readonly severity: (severity: Severity, s: string) => string;
  readonly ok: (s: string) => string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const COLOURS: Paint = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  underline: sgr(4, 24),
  severity: (severity, s) => (severity === 'error' ? sgr(31, 39)(s) : severity === 'warning' ? sgr(33, 39)(s) : sgr(36, 39)(s)),
  ok: sgr(32, 39),
};
const identity = (s: string): string => s;
const PLAIN: Paint = { bold: identity, dim: identity, underline: identity, severity: (_severity, s) => s, ok: identity };

/** `src/a.ts:12:5` */
export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

/**
 * Renders an audit result for a terminal.
 *
 * @example
 * process.stdout.write(formatText(await runAudit(), { color: process.stdout.isTTY }));
 */
export function formatText(result: AuditResult, options: TextOptions = {}): string {
  const paint = options.color === true ? COLOURS : PLAIN;
  const out: string[] = [];
  const findings = sortFindings(result.findings);
  let currentFile: string | undefined;
  for (const finding of findings) {
    if (finding.location.file !== currentFile) {
      currentFile = finding.location.file;
      if (out.length > 0) out.push('');
      out.push(paint.underline(currentFile));
    }
    out.push(...formatFinding(finding, paint));
  }
  if (options.quiet === true) return out.length === 0 ? '' : `${out.join('\n')}\n`;

  if (result.skipped.length > 0) {
    if (out.length > 0) out.push('');
    out.push(paint.bold(`Skipped ${result.skipped.length} file${result.skipped.length === 1 ? '' : 's'} (not audited):`));
    for (const skipped of result.skipped) out.push(`  ${skipped.file}: ${paint.dim(skipped.reason)}`);
  }
  if (result.inventory.length > 0) {
    if (out.length > 0) out.push('');
    out.push(paint.bold('Lock inventory'), ...inventoryTable(result.inventory, paint));
  }
  if (out.length > 0) out.push('');
  out.push(summaryLine(result, paint));
  return `${out.join('\n')}\n`;
}

function formatFinding(finding: Finding, paint: Paint): string[] {
  const where = `${finding.location.line}:${finding.location.column}`;
  const lines = [`  ${paint.dim(where.padEnd(8))}${paint.severity(finding.severity, finding.severity.padEnd(8))}${finding.message}  ${paint.dim(finding.ruleId)}`];
  const indent = ' '.repeat(18);
  if (finding.explanation !== '') lines.push(`${indent}${paint.dim('why:')} ${finding.explanation}`);
  if (finding.fix !== '') lines.push(`${indent}${paint.dim('fix:')} ${finding.fix}`);
  finding.paths.forEach((path, index) => {
    if (path.length === 0) return;
    lines.push(`${indent}${paint.dim(finding.paths.length > 1 ? `path ${index + 1}:` : 'path:')}`);
    for (const step of path) lines.push(`${indent}  ${stepLine(step)}`);
  });
  if (finding.related.length > 0) {
    lines.push(`${indent}${paint.dim('see also:')}`);
    for (const related of finding.related) lines.push(`${indent}  ${stepLine(related)}`);
  }
  return lines;
}

function stepLine(step: LabelledLocation): string {
  return `${formatLocation(step)}  ${step.message}`;
}

/** "async-mutex Mutex"; just the type when it already names the kind ("boolean flag"). */
export function kindLabel(row: Pick<LockInventoryRow, 'kind' | 'type'>): string {
  return row.type.toLowerCase().includes(row.kind) ? row.type : `${row.kind} ${row.type}`;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

function inventoryTable(rows: readonly LockInventoryRow[], paint: Paint): string[] {
  const header = ['Lock', 'Declared at', 'Kind', 'Acquired at', 'Across await', 'Heavy sync'];
  const cells = [...rows]
    .sort((a, b) => (a.location.file < b.location.file ? -1 : a.location.file > b.location.file ? 1 : a.location.line - b.location.line))
    .map((row) => [row.name, `${row.location.file}:${row.location.line}`, kindLabel(row), acquisitionsSummary(row), yesNo(row.heldAcrossAwait), yesNo(row.heavySyncUnderLock)]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) => `  ${r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}`.trimEnd();
  return [paint.dim(line(header)), ...cells.map(line)];
}

/** "3 sites" or the one site, so that the table stays narrow; md and json list every site. */
function acquisitionsSummary(row: LockInventoryRow): string {
  const sites = row.acquisitions;
  if (sites.length === 0) return 'none';
  if (sites.length === 1) return `${sites[0]!.file}:${sites[0]!.line}`;
  return `${sites.length} sites`;
}

function summaryLine(result: AuditResult, paint: Paint): string {
  const counts = countBySeverity(result.findings);
  const files = `${result.filesScanned} file${result.filesScanned === 1 ? '' : 's'}`;
  const locks = `${result.inventory.length} lock${result.inventory.length === 1 ? '' : 's'}`;
  const skipped = result.skipped.length > 0 ? `, ${result.skipped.length} skipped` : '';
  const seconds = (result.durationMs / 1000).toFixed(2);
  const verdict =
    result.findings.length === 0
      ? paint.ok('no findings')
      : SEVERITIES.map((severity) => {
          const part = `${counts[severity]} ${severity}${counts[severity] === 1 ? '' : 's'}`;
          return counts[severity] > 0 ? paint.severity(severity, part) : part;
        }).join(', ');
  return `deadbolt audit: ${files}${skipped}, ${locks}, ${verdict} (${seconds} s)`;
}
