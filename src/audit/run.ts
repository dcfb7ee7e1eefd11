/*
 * The audit's entry points: find and read files, parse each once, walk each once, then the
 * interprocedural pass and the rules over the summaries. A file that cannot be read, parsed or
 * analysed is reported in `skipped` and never stops the run.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { buildFileModel, type FileModel } from './bindings.js';
import { CallClassifier } from './call-kinds.js';
import { discoverFiles, relativePath } from './files.js';
import { uniqueFingerprints } from './fingerprint.js';
import { collectLockFacts, inventoryRows } from './inventory.js';
import { LockCatalogue } from './lock-model.js';
import { Resolver } from './resolve.js';
import { lockOrderFindings } from './rules/lock-order.js';
import { reentrantFindings } from './rules/reentrant.js';
import { unawaitedWrapperFindings } from './rules/unawaited.js';
import { blockingFindings, callbackFindings } from './rules/under-lock.js';
import { parseSource } from './scanner.js';
import { Summaries } from './summaries.js';
import { applySuppressions } from './suppressions.js';
import type { AuditConfig, AuditOptions, AuditResult, Finding, SkippedFile } from './types.js';
import { UnitRegistry } from './units.js';
import { Walker } from './walker.js';

interface SourceInput {
  readonly file: string;
  readonly abs: string;
  readonly text: string | null;
  readonly readError?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function compareFindings(a: Finding, b: Finding): number {
  if (a.location.file !== b.location.file) return a.location.file < b.location.file ? -1 : 1;
  if (a.location.line !== b.location.line) return a.location.line - b.location.line;
  if (a.ruleId !== b.ruleId) return a.ruleId < b.ruleId ? -1 : 1;
  if (a.location.column !== b.location.column) return a.location.column - b.location.column;
  return a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0;
}

function applySeverities(findings: readonly Finding[], config: AuditConfig): Finding[] {
  const rules = config.rules ?? {};
  const out: Finding[] = [];
  for (const finding of findings) {
    const setting = rules[finding.ruleId];
    if (setting === 'off') continue;
    out.push(setting !== undefined ? { ...finding, severity: setting } : finding);
  }
  return out;
}

function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.fingerprint}\u0000${f.location.line}\u0000${f.location.column}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function analyse(inputs: readonly SourceInput[], root: string, config: AuditConfig, started: number, onProgress?: (done: number, total: number) => void): AuditResult {
  const skipped: SkippedFile[] = [];
  const models: FileModel[] = [];
  inputs.forEach((input, index) => {
    if (input.text === null) skipped.push({ file: input.file, reason: input.readError ?? 'unreadable' });
    else {
      const parsed = parseSource(input.abs, input.text);
      if (parsed.ok) models.push(buildFileModel(input.file, input.abs, parsed.sf));
      else skipped.push({ file: input.file, reason: parsed.reason });
    }
    onProgress?.(index + 1, inputs.length);
  });

  // A config file's lock paths are absolute (relative to the config); files are keyed relative to the root.
  const catalogue = new LockCatalogue((config.locks ?? []).map((lock) => (lock.path !== undefined && isAbsolute(lock.path) ? { ...lock, path: relativePath(root, lock.path) } : lock)));
  const files = new Map(models.map((m) => [m.sf, m.file]));
  const units = new UnitRegistry((sf) => files.get(sf) ?? sf.fileName);
  const resolver = new Resolver(models, catalogue, config, units);
  const projectNames = new Set<string>();
  for (const model of models) for (const name of model.memberNames) projectNames.add(name);
  const walker = new Walker(resolver, new CallClassifier(resolver, config.wrappers ?? [], projectNames), units);
  const failed = new Set<string>();
  for (const model of models) {
    try {
      walker.walkFile(model);
    } catch (error) {
      failed.add(model.file);
      skipped.push({ file: model.file, reason: `internal error: ${message(error)}` });
    }
  }

  let findings: Finding[] = [];
  const liveUnits = units.all.filter((u) => !failed.has(u.file));
  for (const unit of liveUnits) findings.push(...unit.local);
  let inventory: AuditResult['inventory'] = [];
  try {
    const summaries = new Summaries(liveUnits, resolver, config.wrappers ?? []);
    for (const rule of [lockOrderFindings, reentrantFindings, callbackFindings, blockingFindings, unawaitedWrapperFindings]) findings.push(...rule(summaries));
    collectLockFacts(summaries);
    inventory = inventoryRows(resolver.decls.values()).filter((row) => !failed.has(row.location.file));
  } catch (error) {
    skipped.push({ file: '<project>', reason: `internal error in the project-wide pass: ${message(error)}` });
  }
  findings = findings.filter((f) => !failed.has(f.location.file));
  findings = applySuppressions(findings, new Map(inputs.map((input) => [input.file, input.text ?? ''])));
  findings = uniqueFingerprints(dedupe(applySeverities(findings, config)).sort(compareFindings));
  skipped.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { root, filesScanned: models.length - failed.size, skipped, inventory, findings, durationMs: Date.now() - started };
}

/**
 * Audits in-memory sources (the ESLint plugin and tests use it). Paths are taken relative to
 * `root`; they need not exist on disk.
 *
 * @example
 * const result = analyzeSources([{ file: 'a.ts', text: "import { Mutex } from 'async-mutex'; ..." }], { root: '/repo' });
 * result.findings.map((f) => f.ruleId);
 */
export function analyzeSources(sources: readonly { file: string; text: string }[], options: { root: string; config?: AuditConfig }): AuditResult {
  const started = Date.now();
  const root = resolve(options.root);
  const inputs = sources.map((source) => {
    const abs = resolve(root, source.file);
    return { file: relativePath(root, abs), abs, text: source.text };
  });
  return analyse(inputs, root, options.config ?? {}, started);
}

/**
 * Finds the files under `options.paths` (default: the current directory), audits them and returns
 * the result sorted by file, line and rule.
 *
 * @example
 * const result = await runAudit({ paths: ['src'], config: { ranks: { 'src/db.ts#pool': 10 } } });
 * if (result.findings.some((f) => f.severity === 'error')) process.exitCode = 1;
 */
export async function runAudit(options: AuditOptions = {}): Promise<AuditResult> {
  const started = Date.now();
  const root = resolve(options.root ?? process.cwd());
  const config = options.config ?? {};
  const paths = options.paths !== undefined && options.paths.length > 0 ? options.paths : [root];
  const files = discoverFiles(paths, root, config.ignore ?? []);
  const inputs: SourceInput[] = files.map((abs) => {
    const file = relativePath(root, abs);
    try {
      return { file, abs, text: readFileSync(abs, 'utf8') };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { file, abs, text: null, readError: `cannot read: ${code ?? message(error)}` };
    }
  });
  // Reading is synchronous and parsing is CPU-bound; yield once so callers can draw progress first.
  await Promise.resolve();
  return analyse(inputs, root, config, started, options.onProgress);
}
