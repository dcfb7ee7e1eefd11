/*
 * The `md` format: the lock inventory as a table, in the spirit of a hand-made locking audit
 * (lock, where, kind, acquisition sites, held across await, heavy sync under it), then every
 * finding with its rule, severity, location, explanation and suggested fix. Meant for a pull
 * request comment or a checked-in AUDIT.md.
 */
import type { AuditResult, Finding, LabelledLocation, LockInventoryRow, SourceLocation } from '../types.js';
import { ruleDoc } from './rule-docs.js';
import { countBySeverity, formatCounts, sortFindings } from './severity.js';

/** Escapes what would break a table cell or start markup: pipes, backslashes, newlines, angle brackets. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, ' ');
}

/** Code span that survives backticks inside (CommonMark: a longer fence). */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A code span inside a table cell: GFM splits cells on `|` even inside code spans, unless escaped. */
function cellCode(text: string): string {
  return code(text).replace(/\|/g, '\\|');
}

function at(location: SourceLocation): string {
  return cellCode(`${location.file}:${location.line}`);
}

function yesNo(value: boolean): string {
  return value ? '**yes**' : 'no';
}

function inventoryRow(row: LockInventoryRow): string {
  const sites = row.acquisitions.length === 0 ? 'none' : row.acquisitions.map(at).join(', ');
  const kind = `${row.type.toLowerCase().includes(row.kind) ? escapeCell(row.type) : `${escapeCell(row.kind)} (${escapeCell(row.type)})`}${row.rank === undefined ? '' : `, rank ${row.rank}`}${row.reentrant ? ', reentrant' : ''}`;
  return `| ${escapeCell(row.name)} | ${at(row.location)} | ${kind} | ${sites} | ${yesNo(row.heldAcrossAwait)} | ${yesNo(row.heavySyncUnderLock)} |`;
}

function step(location: LabelledLocation): string {
  return `${code(`${location.file}:${location.line}:${location.column}`)} ${escapeCell(location.message)}`;
}

function findingSection(finding: Finding, index: number): string {
  const loc = finding.location;
  const lines = [
    `### ${index + 1}. ${finding.severity}: ${escapeCell(finding.message)}`,
    '',
    `- Rule: \`${finding.ruleId}\` (${escapeCell(ruleDoc(finding.ruleId).summary.toLowerCase())})`,
    `- Severity: ${finding.severity}`,
    `- Location: ${code(`${loc.file}:${loc.line}:${loc.column}`)}`,
  ];
  if (finding.locks.length > 0) lines.push(`- Locks: ${finding.locks.map(code).join(', ')}`);
  lines.push('', `**Why.** ${escapeCell(finding.explanation)}`, '', `**Fix.** ${escapeCell(finding.fix)}`);
  finding.paths.forEach((path, i) => {
    if (path.length === 0) return;
    lines.push('', `**${finding.paths.length > 1 ? `Path ${i + 1}` : 'Path'}:**`, '', ...path.map((s, n) => `${n + 1}. ${step(s)}`));
  });
  if (finding.related.length > 0) lines.push('', '**See also:**', '', ...finding.related.map((r) => `- ${step(r)}`));
  return lines.join('\n');
}

/**
 * Renders an audit result as markdown.
 *
 * @example
 * writeFileSync('AUDIT.md', formatMarkdown(await runAudit({ paths: ['src'] })));
 */
export function formatMarkdown(result: AuditResult): string {
  const findings = sortFindings(result.findings);
  const counts = countBySeverity(findings);
  const parts: string[] = [
    '# Lock audit',
    '',
    `${result.filesScanned} file${result.filesScanned === 1 ? '' : 's'} audited${result.skipped.length > 0 ? ` (${result.skipped.length} skipped)` : ''}: ${result.inventory.length} lock${
      result.inventory.length === 1 ? '' : 's'
    }, ${findings.length === 0 ? 'no findings' : formatCounts(counts)}.`,
    '',
    '## Inventory',
    '',
  ];
  if (result.inventory.length === 0) parts.push('No locks found.');
  else {
    const rows = [...result.inventory].sort((a, b) => (a.location.file < b.location.file ? -1 : a.location.file > b.location.file ? 1 : a.location.line - b.location.line));
    parts.push('| Lock | Declared at | Kind | Acquisition sites | Held across await | Heavy sync under it |', '| :-- | :-- | :-- | :-- | :-- | :-- |', ...rows.map(inventoryRow));
  }
  parts.push('', '## Findings', '');
  if (findings.length === 0) parts.push('No findings.');
  else parts.push(findings.map(findingSection).join('\n\n'));
  if (result.skipped.length > 0) {
    parts.push('', '## Skipped files', '', 'These files could not be read or parsed, so they were not audited.', '', ...result.skipped.map((s) => `- ${code(s.file)}: ${escapeCell(s.reason)}`));
  }
  return `${parts.join('\n')}\n`;
}
