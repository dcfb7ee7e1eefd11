/*
 * What each rule is about, as the reporters and the ESLint plugin show it: a one-line summary
 * (here), and the paragraph, general fix and default severity that the analysis core keeps in
 * explain.ts (one source for both). This is the rule-level text that SARIF's `tool.driver.rules`
 * and ESLint's `meta.docs` need even when a run has no finding of the rule.
 */
import { DEFAULT_SEVERITY, EXPLANATION, FIX } from '../explain.js';
import { RULE_IDS, type RuleId, type Severity } from '../types.js';

/** The documentation of one rule. */
export interface RuleDoc {
  readonly id: RuleId;
  /** One line, no trailing period: what the rule reports. */
  readonly summary: string;
  /** A paragraph: why it matters. */
  readonly description: string;
  /** What to change, in general (each finding has its own, more specific fix). */
  readonly fix: string;
  /** The severity a finding gets unless the config overrides it. */
  readonly defaultSeverity: Severity;
}

/** One line per rule; the paragraphs and defaults come from the core's explain.ts. */
const SUMMARY: Readonly<Record<RuleId, string>> = {
  'lock-order-inversion': 'Two locks taken in opposite orders on two paths',
  'reentrant-acquire': 'A lock requested while it is certainly held on the same path',
  'unreleased-lock': 'An acquisition without a guaranteed release',
  'callback-under-lock': 'User-supplied code runs while a lock is held',
  'blocking-under-lock': 'Blocking synchronous work while a lock is held',
  'unawaited-lock-promise': 'A lock promise not awaited where the code assumes it settled',
  'check-then-acquire': 'A lock state checked and then taken in two steps',
  'multi-lock-unordered': 'Several locks acquired in an order the caller chooses',
};

function doc(id: RuleId): RuleDoc {
  return { id, summary: SUMMARY[id], description: EXPLANATION[id], fix: FIX[id], defaultSeverity: DEFAULT_SEVERITY[id] };
}

/** The documentation of every rule, in RULE_IDS order. */
export const RULE_DOCS: readonly RuleDoc[] = RULE_IDS.map(doc);

/**
 * The documentation of one rule.
 *
 * @example
 * ruleDoc('reentrant-acquire').defaultSeverity; // 'error'
 */
export function ruleDoc(id: RuleId): RuleDoc {
  return RULE_DOCS[RULE_IDS.indexOf(id)] as RuleDoc;
}
