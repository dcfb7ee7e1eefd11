/*
 * The `json` format: the AuditResult itself, so that other tools read exactly what the analysis
 * produced (types in deadbolt/audit). Findings are sorted into the reporters' stable order.
 */
import type { AuditResult } from '../types.js';
import { sortFindings } from './severity.js';

/**
 * The audit result as pretty-printed JSON.
 *
 * @example
 * const result = JSON.parse(formatJson(await runAudit())) as AuditResult;
 */
export function formatJson(result: AuditResult): string {
  const ordered: AuditResult = { ...result, findings: sortFindings(result.findings) };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
