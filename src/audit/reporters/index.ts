/*
 * The reporters of `deadbolt audit`: one function per output format, all pure (result in, text
 * out), so that the CLI, tests and other tools share them.
 */
import type { AuditResult } from '../types.js';
import { formatJson } from './json.js';
import { formatMarkdown } from './markdown.js';
import { formatSarif } from './sarif.js';
import { formatText } from './text.js';

export { formatJson } from './json.js';
export { escapeCell, formatMarkdown } from './markdown.js';
export { FINGERPRINT_KEY, formatSarif, relativeUri, toSarif, type SarifLog, type SarifOptions } from './sarif.js';
export { formatLocation, formatText, type TextOptions } from './text.js';
export { RULE_DOCS, ruleDoc, type RuleDoc } from './rule-docs.js';
export { countBySeverity, FAIL_ON_VALUES, failsAt, formatCounts, SEVERITIES, severityRank, sortFindings, type FailOn } from './severity.js';

/** The `--format` values. */
export const FORMATS = ['text', 'md', 'json', 'sarif'] as const;
export type Format = (typeof FORMATS)[number];

export interface FormatOptions {
  /** text only: ANSI colours. */
  readonly color?: boolean;
  /** text only: findings only. */
  readonly quiet?: boolean;
  /** sarif only: `tool.driver.version`. */
  readonly toolVersion?: string;
}

/**
 * Renders `result` in `format`.
 *
 * @example
 * process.stdout.write(formatResult(await runAudit(), 'md'));
 */
export function formatResult(result: AuditResult, format: Format, options: FormatOptions = {}): string {
  switch (format) {
    case 'text':
      return formatText(result, { color: options.color ?? false, quiet: options.quiet ?? false });
    case 'md':
      return formatMarkdown(result);
    case 'json':
      return formatJson(result);
    case 'sarif':
      return formatSarif(result, options.toolVersion === undefined ? {} : { toolVersion: options.toolVersion });
  }
}
