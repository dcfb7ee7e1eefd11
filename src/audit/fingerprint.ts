/*
 * Finding construction and fingerprints. A fingerprint is built from the rule, the file, the lock
 * ids, the enclosing function names and a short discriminator (the call or callee involved), never
 * from line numbers, so a finding keeps its identity when code above it moves.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_SEVERITY, EXPLANATION, FIX } from './explain.js';
import type { Finding, LabelledLocation, RuleId, SourceLocation } from './types.js';

export interface FindingInput {
  readonly ruleId: RuleId;
  readonly message: string;
  readonly location: SourceLocation;
  readonly related?: readonly LabelledLocation[];
  readonly paths?: readonly (readonly LabelledLocation[])[];
  readonly locks: readonly string[];
  /** Names of the functions involved (the enclosing one first). */
  readonly functions: readonly string[];
  /** What tells this finding apart from others of the same rule in the same function. */
  readonly discriminator?: string;
}

/**
 * A finding with the rule's default severity and texts.
 *
 * @example
 * makeFinding({ ruleId: 'unreleased-lock', message: '...', location, locks: [id], functions: ['Store.save'] });
 */
export function makeFinding(input: FindingInput): Finding {
  const parts = [input.ruleId, input.location.file, [...input.locks].sort().join(','), input.functions.join('>'), input.discriminator ?? ''];
  return {
    ruleId: input.ruleId,
    severity: DEFAULT_SEVERITY[input.ruleId],
    message: input.message,
    explanation: EXPLANATION[input.ruleId],
    fix: FIX[input.ruleId],
    location: input.location,
    related: input.related ?? [],
    paths: input.paths ?? [],
    locks: input.locks,
    fingerprint: createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32),
  };
}

/** Makes fingerprints unique: a repeat gets `:2`, `:3` in source order. */
export function uniqueFingerprints(findings: readonly Finding[]): Finding[] {
  const seen = new Map<string, number>();
  return findings.map((finding) => {
    const count = (seen.get(finding.fingerprint) ?? 0) + 1;
    seen.set(finding.fingerprint, count);
    return count === 1 ? finding : { ...finding, fingerprint: `${finding.fingerprint}:${count}` };
  });
}
