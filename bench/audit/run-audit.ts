/**
 * deadbolt audit benchmark: `deadbolt audit` (syntax mode, the default) against ESLint 9 +
 * typescript-eslint's parser (no type information) running one core rule, on the same corpus of
 * real .ts files (bench/audit/corpus.ts: the sources that viem, ox, effect, rxjs and zod ship).
 *
 * Each measurement is a fresh plain-node process timed from spawn to exit (start-up, module
 * loading, file discovery, reading, parsing, analysis and the report all count, as for a user
 * who runs the command): `node dist/cli/main.js audit <corpus> --format json` and
 * bench/audit/eslint-child.mjs. The two alternate, a different one first each round, after one
 * untimed warm-up run of each (so the OS file cache is warm for both). Figures are medians over
 * the rounds. Returns a markdown section for bench/RESULTS.md and the criteria.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtCount, fmtRatio, median, rotate, spread, table } from '../stats.js';
import { buildCorpus } from './corpus.js';

export interface AuditCriterion {
  name: string;
  pass: boolean;
  detail: string;
}

/** The ESLint rule of the baseline: one cheap core rule, so the baseline is ESLint's floor. */
const ESLINT_RULE = 'no-debugger';
const MIN_SPEEDUP = 2;
const MIN_FILES_PER_SECOND = 500;
const MIN_CORPUS = 3000;

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

interface Timed {
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function timeProcess(args: readonly string[]): Promise<Timed> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

interface AuditRun {
  readonly ms: number;
  readonly inProcessMs: number;
  readonly files: number;
  readonly skipped: number;
  readonly findings: number;
  readonly locks: number;
}
interface EslintRun {
  readonly ms: number;
  readonly inProcessMs: number;
  readonly files: number;
  readonly fatal: number;
}

async function runAudit(corpusDir: string, outFile: string): Promise<AuditRun> {
  const t = await timeProcess([cli, 'audit', corpusDir, '--format', 'json', '--output', outFile, '--fail-on', 'none', '--no-color']);
  if (t.code !== 0) throw new Error(`deadbolt audit exited with ${String(t.code)}\n${t.stderr}`);
  const result = JSON.parse(readFileSync(outFile, 'utf8')) as { filesScanned: number; skipped: unknown[]; findings: unknown[]; inventory: unknown[]; durationMs: number };
  return { ms: t.ms, inProcessMs: result.durationMs, files: result.filesScanned, skipped: result.skipped.length, findings: result.findings.length, locks: result.inventory.length };
}

async function runEslint(corpusDir: string): Promise<EslintRun> {
  const t = await timeProcess([join(here, 'eslint-child.mjs'), corpusDir, ESLINT_RULE]);
  const line = t.stdout.trim().split('\n').pop() ?? '';
  if (t.code !== 0 || !line.startsWith('{')) throw new Error(`ESLint baseline exited with ${String(t.code)}\n${t.stderr}${t.stdout}`);
  const parsed = JSON.parse(line) as { files: number; fatal: number; ms: number };
  return { ms: t.ms, inProcessMs: parsed.ms, files: parsed.files, fatal: parsed.fatal };
}

const fmtS = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const fmtRate = (files: number, ms: number): string => fmtCount(Math.round(files / (ms / 1000)));

export async function runAuditBenchmarks(options: { quick: boolean; log: (line: string) => void }): Promise<{ markdown: string; criteria: AuditCriterion[] }> {
  const { quick, log } = options;
  const started = performance.now();
  const rounds = quick ? 1 : 5;
  const corpus = buildCorpus(quick ? { limit: 300 } : {});
  const outDir = mkdtempSync(join(os.tmpdir(), 'deadbolt-bench-audit-out-'));
  const outFile = join(outDir, 'audit.json');
  try {
    if (corpus.missing.length > 0) log(`[audit] not installed, left out of the corpus: ${corpus.missing.join(', ')}`);
    log(`[audit] corpus: ${fmtCount(corpus.files.length)} .ts files, ${(corpus.bytes / 1e6).toFixed(1)} MB (${corpus.packages.map((p) => `${p.name}@${p.version} ${p.files}`).join(', ')})`);
    const n = corpus.files.length;

    // Untimed warm-up of both, and the sanity checks: each tool must see the whole corpus.
    const warmAudit = await runAudit(corpus.dir, outFile);
    const warmEslint = await runEslint(corpus.dir);
    if (warmAudit.files + warmAudit.skipped !== n) throw new Error(`deadbolt audit saw ${warmAudit.files} + ${warmAudit.skipped} skipped files of the corpus's ${n}`);
    if (warmEslint.files !== n) throw new Error(`ESLint linted ${warmEslint.files} files of the corpus's ${n}`);

    const audits: AuditRun[] = [];
    const eslints: EslintRun[] = [];
    const loads: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const tool of rotate(['audit', 'eslint'] as const, round, 2)) {
        loads.push(os.loadavg()[0] ?? NaN);
        if (tool === 'audit') {
          const run = await runAudit(corpus.dir, outFile);
          audits.push(run);
          log(`[audit ${round + 1}/${rounds}] deadbolt audit  ${fmtS(run.ms)}  ${fmtRate(n, run.ms)} files/s  (in-process ${fmtS(run.inProcessMs)}; ${run.findings} findings, ${run.locks} locks, ${run.skipped} skipped)`);
        } else {
          const run = await runEslint(corpus.dir);
          eslints.push(run);
          log(`[audit ${round + 1}/${rounds}] ESLint baseline  ${fmtS(run.ms)}  ${fmtRate(n, run.ms)} files/s  (in-process ${fmtS(run.inProcessMs)}; ${run.fatal} parse errors)`);
        }
      }
    }

    const auditMs = median(audits.map((r) => r.ms));
    const eslintMs = median(eslints.map((r) => r.ms));
    const speedup = eslintMs / auditMs;
    const auditRate = n / (auditMs / 1000);
    const eslintRate = n / (eslintMs / 1000);
    const heldSpeedup = audits.filter((a, i) => eslints[i]!.ms / a.ms >= MIN_SPEEDUP).length;
    const heldRate = audits.filter((a) => n / (a.ms / 1000) >= MIN_FILES_PER_SECOND).length;
    const criteria: AuditCriterion[] = [
      {
        name: `deadbolt audit >= ${MIN_SPEEDUP}x faster than the ESLint baseline`,
        pass: speedup >= MIN_SPEEDUP,
        detail: `${fmtRatio(speedup)} (${fmtS(auditMs)} vs ${fmtS(eslintMs)}); held in ${heldSpeedup}/${rounds} rounds`,
      },
      {
        name: `deadbolt audit >= ${MIN_FILES_PER_SECOND} files/s (syntax mode)`,
        pass: auditRate >= MIN_FILES_PER_SECOND,
        detail: `${fmtRate(n, auditMs)} files/s; held in ${heldRate}/${rounds} rounds`,
      },
      {
        name: `corpus of at least ${fmtCount(MIN_CORPUS)} real .ts files`,
        pass: corpus.available >= MIN_CORPUS,
        detail: `${fmtCount(corpus.available)} files${quick ? ` (this quick run measured a sample of ${fmtCount(n)})` : ''}${corpus.missing.length > 0 ? `; missing packages: ${corpus.missing.join(', ')}` : ''}`,
      },
    ];

    const rows = [
      ['`deadbolt audit` (syntax mode, `--format json`)', fmtS(auditMs), fmtRate(n, auditMs), spread(audits.map((r) => r.ms), auditMs), fmtS(median(audits.map((r) => r.inProcessMs))), '1.00x'],
      [`ESLint ${eslintVersion()} + typescript-eslint parser, one rule (\`${ESLINT_RULE}\`)`, fmtS(eslintMs), fmtRate(n, eslintMs), spread(eslints.map((r) => r.ms), eslintMs), fmtS(median(eslints.map((r) => r.inProcessMs))), fmtRatio(eslintMs / auditMs)],
    ];
    const mainTable = table(['Tool', 'Median total time', 'Files/s', 'Round spread', 'Median in-process time', 'Time vs audit'], rows, ['l', 'r', 'r', 'r', 'r', 'r']);
    const criteriaTable = table(
      ['Criterion', 'Measured (medians)', 'Result'],
      criteria.map((c) => [c.name, c.detail, c.pass ? '**PASS**' : '**FAIL**']),
      ['l', 'l', 'l'],
    );
    const last = audits.at(-1)!;
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const date = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    const markdown = `## deadbolt audit: against ESLint + typescript-eslint on ${fmtCount(n)} real .ts files

${quick ? '> **BENCH_QUICK=1 smoke test of deadbolt audit: 1 round, a 300-file sample of the corpus. Not results to quote.**\n\n' : ''}${criteriaTable}

${mainTable}

Speed-up of the audit over the baseline: ${fmtRatio(speedup)} in total time; ${fmtRate(n, auditMs)} against ${fmtRate(n, eslintMs)} files/s (${fmtRatio(auditRate / eslintRate)}).

### Method

- Corpus: every .ts/.mts/.cts file (no .d.ts) shipped by ${corpus.packages.map((p) => `${p.name}@${p.version} (${fmtCount(p.files)})`).join(', ')}: ${fmtCount(n)} files, ${(corpus.bytes / 1e6).toFixed(1)} MB, copied to a temporary directory so that both tools read the same files and nothing else. The audit found ${last.locks} locks and ${last.findings} findings in it${last.skipped > 0 ? ` and skipped ${last.skipped} files it could not parse` : ''}; ESLint reported ${warmEslint.fatal} parse errors.
- deadbolt: \`node dist/cli/main.js audit <corpus> --format json --output <file> --fail-on none\` (the built CLI; syntax mode with import-binding resolution, the default). Baseline: bench/audit/eslint-child.mjs, ESLint's Node API with a flat config that sets typescript-eslint's parser without a \`project\` (no type information) and turns on the one core rule \`${ESLINT_RULE}\` (ESLint still builds scopes and code paths for every file); one thread, ESLint's default; no cache.
- Produced by bench/audit/run-audit.ts on ${date}: Node ${process.version} (${process.platform}/${process.arch}), ${cpu} (${os.cpus().length} logical cores). One untimed warm-up run of each tool (the file cache is warm for both), then ${rounds} round(s) of one run each, alternating which goes first. "Total time" is from spawning the process to its exit (start-up and module loading included, as a user sees it); "in-process" is the tool's own measure (the audit's \`durationMs\`; for ESLint, from the child's first line to the results). Figures are medians over the rounds; "Round spread" is half the range, relative to the median.
- Runtime: ${((performance.now() - started) / 1000).toFixed(1)} s; 1-minute load average before each run: median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}${
      median(loads) > os.cpus().length * 0.75 ? ' (**other work shared the CPU: absolute files/s are depressed; the speed-up, measured side by side, is the figure to quote**)' : ''
    }.
`;
    return { markdown, criteria };
  } finally {
    rmSync(corpus.dir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  }
}

function eslintVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', 'eslint', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '';
  }
}


