/*
 * Shared helpers for the audit engine's tests: load a fixture directory as in-memory sources,
 * find the line a `// expect: <marker>` comment sits on, and summarise findings for assertions.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeSources, type AuditConfig, type AuditResult, type Finding, type RuleId } from '../../src/audit/index.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

export interface Fixture {
  readonly root: string;
  readonly sources: { file: string; text: string }[];
  readonly result: AuditResult;
  /** The 1-based line of `// expect: <marker>` in `file`; throws if it is missing. */
  line(file: string, marker: string): number;
}

/** Analyses every file under fixtures/<dir>. */
export function fixture(dir: string, config?: AuditConfig): Fixture {
  const root = join(FIXTURES, dir);
  const sources = walk(root).map((path) => ({ file: relative(root, path), text: readFileSync(path, 'utf8') }));
  const result = analyzeSources(sources, { root, ...(config !== undefined ? { config } : {}) });
  return {
    root,
    sources,
    result,
    line(file, marker) {
      const source = sources.find((s) => s.file === file);
      if (source === undefined) throw new Error(`no fixture file ${file}`);
      const index = source.text.split('\n').findIndex((text) => text.includes(`// expect: ${marker}`) && !text.includes(`// expect: ${marker}-`));
      if (index < 0) throw new Error(`no marker ${marker} in ${file}`);
      return index + 1;
    },
  };
}

/** Findings of one rule. */
export function ofRule(result: AuditResult, ruleId: RuleId): Finding[] {
  return result.findings.filter((f) => f.ruleId === ruleId);
}

/** `file:line` of each step of each path. */
export function pathSteps(finding: Finding): string[][] {
  return finding.paths.map((path) => path.map((s) => `${s.file}:${s.line}`));
}

/** `file:line` of a finding's location. */
export function at(finding: Finding): string {
  return `${finding.location.file}:${finding.location.line}`;
}
