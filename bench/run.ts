/**
 * deadbolt benchmark suite: `npm run bench` (builds, then runs this file under tsx). The core
 * suite is here; the deadbolt/fs, deadbolt/secure and deadbolt/threads suites (bench/fs, bench/secure,
 * bench/threads) and the audit suite (bench/audit) run after it,
 * into the same RESULTS.md.
 *
 * Seven contenders x two scenarios. Each (contender, scenario) pair runs in a fresh child process,
 * because checked mode installs an async_hooks init hook that slows every promise in its process.
 * The pairs run one at a time, interleaved in rounds (round-robin, a different starting point each
 * round) so that machine noise hits every contender alike. Reported: the median ops/s of all timed
 * samples of a pair, over all rounds.
 *
 * The child processes run plain `node` on a transpiled copy of bench/worker.ts and
 * bench/contenders.ts (no tsx in the measured process: tsx turns on source maps, which makes
 * every captured stack dearer and so would overcharge checked mode), and import deadbolt from the
 * built dist/index.js.
 *
 * BENCH_QUICK=1: one round with small counts, a smoke test. It writes its RESULTS.md to the OS
 * temp directory instead of bench/RESULTS.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { CONTENDERS, SCENARIOS, type ContenderId, type ContenderInfo, type Scenario } from './contenders.js';
import { measuredEnv, runJsonChild } from './child.js';
import { runAuditBenchmarks } from './audit/run-audit.js';
import { runFsBenchmarks } from './fs/run-fs.js';
import { runSecureBenchmarks } from './secure/run-secure.js';
import { runThreadsBenchmarks } from './threads/run-threads.js';
import type { WorkerConfig, WorkerResult } from './worker.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ROUNDS = QUICK ? 1 : 5;
const SAMPLES_PER_PROCESS = QUICK ? 2 : 3;
const TARGET_SAMPLE_MS = QUICK ? 20 : 150;
const WARMUP_MS = QUICK ? 40 : 300;
const FLOWS = 100;
const OPS_PER_FLOW = QUICK ? 50 : 1_000;

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const distIndex = join(root, 'dist', 'index.js');
const resultsPath = QUICK ? join(os.tmpdir(), 'deadbolt-bench-quick-RESULTS.md') : join(benchDir, 'RESULTS.md');

// ---------------------------------------------------------------------------------------------
// Worker build: bench/worker.ts + bench/contenders.ts -> node_modules/.cache/deadbolt-bench/*.js

function buildWorker(): string {
  const outDir = join(root, 'node_modules', '.cache', 'deadbolt-bench');
  mkdirSync(outDir, { recursive: true });
  // Below node_modules, .js files are CommonJS unless the nearest package.json says otherwise.
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  for (const name of ['contenders', 'worker']) {
    const source = readFileSync(join(benchDir, `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: `${name}.ts`,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    });
    writeFileSync(join(outDir, `${name}.js`), outputText);
  }
  return join(outDir, 'worker.js');
}

// ---------------------------------------------------------------------------------------------
// Running one child process

interface JobOutcome {
  readonly result: WorkerResult;
  /** deadbolt's loop-blocked reports (expected in checked mode, see below). */
  readonly loopBlocked: number;
  /** Any other warning deadbolt printed. */
  readonly otherWarnings: number;
}

async function runJob(workerPath: string, info: ContenderInfo, scenario: Scenario): Promise<JobOutcome> {
  const config: WorkerConfig = {
    distUrl: pathToFileURL(distIndex).href,
    samples: SAMPLES_PER_PROCESS,
    targetMs: TARGET_SAMPLE_MS,
    warmupMs: WARMUP_MS,
    flows: FLOWS,
    opsPerFlow: OPS_PER_FLOW,
  };
  const { result, stderr } = await runJsonChild<WorkerResult>(`${info.id} ${scenario}: worker`, [workerPath, info.id, scenario, JSON.stringify(config)], measuredEnv(info.checks), root);
  // Checked mode reports the event loop as blocked: the benchmark loops run entirely on
  // microtasks and never yield. The report is emitted between samples, outside timed code.
  const codes = stderr.match(/\[DEADBOLT_[A-Z_]+\]/g) ?? [];
  const loopBlocked = codes.filter((c) => c === '[DEADBOLT_LOOP_BLOCKED]').length;
  const other = stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/DEADBOLT_LOOP_BLOCKED|^\s|^Move |^\(Use `node --trace-warnings/.test(l))
    .join('\n');
  if (other !== '') process.stderr.write(`[${info.id} ${scenario}] stderr:\n${other}\n`);
  return { result, loopBlocked, otherWarnings: codes.length - loopBlocked };
}

function checkSanity(info: ContenderInfo, result: WorkerResult): void {
  const expectedMode = info.id === 'deadbolt-fast' ? 'fast' : info.id === 'deadbolt-checked' || info.id === 'floor-hooked' ? 'checked' : 'n/a';
  if (result.mode !== expectedMode) throw new Error(`${info.id}: expected mode ${expectedMode}, the worker reports ${result.mode}`);
  if (result.env !== info.checks) throw new Error(`${info.id}: DEADBOLT_CHECKS is ${String(result.env)}, expected ${info.checks}`);
  if (result.exclusionViolations !== 0) throw new Error(`${info.id}: ${result.exclusionViolations} mutual-exclusion violations`);
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmtOps(opsPerSec: number): string {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)} M`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)} k`;
  return opsPerSec.toFixed(0);
}

function fmtRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  return ratio < 0.1 ? `${ratio.toPrecision(2)}x` : `${ratio.toFixed(2)}x`;
}

function fmtSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[]): string {
  const lines = [header, align.map((a) => (a === 'l' ? ':--' : '--:')), ...rows];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** A plain-text rendering of a markdown table, columns padded, for the console. */
function consoleTable(markdown: string): string {
  const rows = markdown.split('\n').map((line) => line.slice(2, -2).split(' | '));
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .filter((_, i) => i !== 1)
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '))
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

interface Cell {
  readonly samples: number[];
  readonly roundMedians: number[];
  readonly sampleMs: number[];
  processMs: number;
}

async function main(): Promise<void> {
  if (!existsSync(distIndex)) throw new Error(`${relative(root, distIndex)} is missing: run \`npm run build\` first (\`npm run bench\` does).`);
  const started = performance.now();
  const workerPath = buildWorker();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const cores = os.cpus().length;

  const jobs: { info: ContenderInfo; scenario: Scenario }[] = [];
  for (const scenario of SCENARIOS) for (const info of CONTENDERS) jobs.push({ info, scenario });
  const cells = new Map<string, Cell>();
  const key = (id: ContenderId, scenario: Scenario): string => `${id}/${scenario}`;
  for (const { info, scenario } of jobs) cells.set(key(info.id, scenario), { samples: [], roundMedians: [], sampleMs: [], processMs: 0 });
  /** The 1-minute load average seen before each process: other work on the machine skews results. */
  const loads: number[] = [];
  let loopBlocked = 0;
  let otherWarnings = 0;

  console.log(`deadbolt bench${QUICK ? ' (BENCH_QUICK: smoke test, 1 round, small counts)' : ''}`);
  console.log(`node ${process.version}, ${cpu} x ${cores}, ${ROUNDS} round(s) x ${jobs.length} processes, ${SAMPLES_PER_PROCESS} samples of ~${TARGET_SAMPLE_MS} ms each\n`);

  for (let round = 0; round < ROUNDS; round++) {
    // Round-robin with a different starting point each round.
    const offset = Math.floor((round * jobs.length) / ROUNDS);
    const order = [...jobs.slice(offset), ...jobs.slice(0, offset)];
    for (const { info, scenario } of order) {
      const t0 = performance.now();
      loads.push(os.loadavg()[0] ?? NaN);
      const outcome = await runJob(workerPath, info, scenario);
      const { result } = outcome;
      checkSanity(info, result);
      loopBlocked += outcome.loopBlocked;
      otherWarnings += outcome.otherWarnings;
      const cell = cells.get(key(info.id, scenario))!;
      const values = result.samples.map((s) => s.opsPerSec);
      cell.samples.push(...values);
      cell.roundMedians.push(median(values));
      cell.sampleMs.push(...result.samples.map((s) => s.ms));
      cell.processMs += performance.now() - t0;
      console.log(
        `[round ${round + 1}/${ROUNDS}] ${info.id.padEnd(16)} ${scenario.padEnd(11)} ${fmtOps(median(values)).padStart(9)} ops/s` +
          `  (samples: ${values.map(fmtOps).join(', ')}; ${result.opsPerSample.toLocaleString('en-US')} ops/sample)`,
      );
    }
  }
  const totalMs = performance.now() - started;

  const med = (id: ContenderId, scenario: Scenario): number => median(cells.get(key(id, scenario))!.samples);
  const roundMed = (id: ContenderId, scenario: Scenario, round: number): number => cells.get(key(id, scenario))!.roundMedians[round]!;

  // ---- tables
  const scenarioTitles: Record<Scenario, string> = {
    uncontended: 'Uncontended: acquire + release in one async loop',
    contended: `Contended: ${FLOWS} concurrent flows x ${OPS_PER_FLOW.toLocaleString('en-US')} ops on one lock; op = acquire, \`await null\`, release`,
  };
  const tables: Record<Scenario, string> = { uncontended: '', contended: '' };
  for (const scenario of SCENARIOS) {
    const awaitLock = med('await-lock', scenario);
    const floorOps = med('floor', scenario);
    const rows = CONTENDERS.map((info) => {
      const ops = med(info.id, scenario);
      const cell = cells.get(key(info.id, scenario))!;
      const rm = cell.roundMedians;
      const spread = rm.length > 1 ? `±${(((Math.max(...rm) - Math.min(...rm)) / 2 / ops) * 100).toFixed(0)}%` : 'n/a';
      const cost = info.id === 'deadbolt-checked' ? fmtRatio(med('deadbolt-fast', scenario) / ops) : '';
      return [info.label, fmtOps(ops), (1e9 / ops).toFixed(1), spread, fmtRatio(ops / awaitLock), fmtRatio(ops / floorOps), cost, `${median(cell.sampleMs).toFixed(0)}`];
    });
    tables[scenario] = table(
      ['Contender', 'Median ops/s', 'ns/op', 'Round spread', 'vs await-lock', 'vs floor', 'Checked cost (fast/checked)', 'Sample ms'],
      rows,
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    );
  }

  // ---- criteria
  const fastU = med('deadbolt-fast', 'uncontended');
  const checkedU = med('deadbolt-checked', 'uncontended');
  const criteria: { name: string; measured: string; test: (r: number | null) => boolean }[] = [
    {
      name: '(i) deadbolt fast uncontended >= await-lock uncontended',
      measured: `${fmtOps(fastU)} vs ${fmtOps(med('await-lock', 'uncontended'))} ops/s (${fmtRatio(fastU / med('await-lock', 'uncontended'))}); resolving a bare object reaches ${fmtRatio(med('floor-object', 'uncontended') / med('await-lock', 'uncontended'))}`,
      test: (r) => (r === null ? fastU : roundMed('deadbolt-fast', 'uncontended', r)) >= (r === null ? med('await-lock', 'uncontended') : roundMed('await-lock', 'uncontended', r)),
    },
    {
      name: '(ii) deadbolt fast uncontended >= 0.5 x floor',
      measured: `${fmtOps(fastU)} vs 0.5 x ${fmtOps(med('floor', 'uncontended'))} ops/s (${fmtRatio(fastU / med('floor', 'uncontended'))} of the floor)`,
      test: (r) => (r === null ? fastU : roundMed('deadbolt-fast', 'uncontended', r)) >= 0.5 * (r === null ? med('floor', 'uncontended') : roundMed('floor', 'uncontended', r)),
    },
    {
      name: '(iii) checked acquisition costs <= 5x fast (fast ops/s / checked ops/s <= 5), uncontended',
      measured: `fast/checked = ${fmtRatio(fastU / checkedU)}`,
      test: (r) => (r === null ? fastU / checkedU : roundMed('deadbolt-fast', 'uncontended', r) / roundMed('deadbolt-checked', 'uncontended', r)) <= 5,
    },
    {
      name: '(iv) deadbolt checked uncontended > async-mutex Mutex uncontended',
      measured: `${fmtOps(checkedU)} vs ${fmtOps(med('async-mutex', 'uncontended'))} ops/s (${fmtRatio(checkedU / med('async-mutex', 'uncontended'))})`,
      test: (r) => (r === null ? checkedU : roundMed('deadbolt-checked', 'uncontended', r)) > (r === null ? med('async-mutex', 'uncontended') : roundMed('async-mutex', 'uncontended', r)),
    },
  ];
  const criteriaRows = criteria.map((c) => {
    const held = Array.from({ length: ROUNDS }, (_, r) => c.test(r)).filter(Boolean).length;
    return [c.name, c.measured, c.test(null) ? '**PASS**' : '**FAIL**', `${held}/${ROUNDS}`];
  });
  const criteriaTable = table(['Criterion', 'Measured (medians)', 'Result', 'Held in rounds'], criteriaRows, ['l', 'l', 'l', 'r']);

  // ---- where checked mode's cost goes (uncontended, ns per op)
  const ns = (id: ContenderId): number => 1e9 / med(id, 'uncontended');
  const hookNs = ns('floor-hooked') - ns('floor');
  const libraryNs = ns('deadbolt-checked') - ns('deadbolt-fast') - hookNs;
  const objectFloor = `Criterion (i) asks a lock that resolves each acquisition with a guard object to match one that resolves with \`undefined\`. The "floor, resolving an object" row is \`await Promise.resolve(obj)\` with one preallocated object and no lock at all: ${fmtRatio(
    med('floor-object', 'uncontended') / med('await-lock', 'uncontended'),
  )} of await-lock in this run, against deadbolt fast's ${fmtRatio(fastU / med('await-lock', 'uncontended'))}. V8 looks up \`then\` on any object a promise resolves with; it skips that only for promises, primitives and iterator results.`;
  const breakdown = `Uncontended, per op: fast mode ${ns('deadbolt-fast').toFixed(0)} ns; checked mode ${ns('deadbolt-checked').toFixed(0)} ns. The floor loop costs ${ns('floor').toFixed(0)} ns bare and ${ns(
    'floor-hooked',
  ).toFixed(0)} ns with checked mode's async_hooks hook installed, so the hook alone (Node's async-id bookkeeping and deadbolt's context propagation, for the awaited promise and the throwaway promise V8 creates per await once promise hooks are on) adds ~${hookNs.toFixed(0)} ns to an op that awaits one promise, as one acquire+release does. That leaves ~${libraryNs.toFixed(0)} ns per op for deadbolt's own checked-mode work beyond fast mode's (the acquisition record, order checks, the held list, the flow context, and the garbage they make).`;

  // ---- console
  for (const scenario of SCENARIOS) console.log(`\n${scenarioTitles[scenario]}\n${consoleTable(tables[scenario])}`);
  console.log(`\nCriteria\n${consoleTable(criteriaTable).replaceAll('**', '')}`);
  console.log(`\n${objectFloor}\n\n${breakdown}`);
  console.log(`\nTotal runtime: ${fmtSeconds(totalMs)}; 1-minute load average before each process: median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)} (${cores} cores)`);

  // ---- RESULTS.md
  const long = [...cells.entries()].filter(([, cell]) => median(cell.sampleMs) > 2 * TARGET_SAMPLE_MS).map(([k, cell]) => `${k} (${median(cell.sampleMs).toFixed(0)} ms)`);
  const longSamples =
    long.length === 0
      ? ''
      : `- Samples longer than twice the ~${TARGET_SAMPLE_MS} ms target: ${long.join(', ')}.${
          long.some((k) => k.includes('/contended')) ? ` The contended unit is one whole pass of ${FLOWS} x ${OPS_PER_FLOW.toLocaleString('en-US')} ops, so a slow contender's sample cannot be shorter than one pass.` : ''
        }\n`;
  const date = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const contenderList = CONTENDERS.map((c) => `- **${c.label}** (DEADBOLT_CHECKS=${c.checks}): \`${c.uncontendedOp}\``).join('\n');
  const md = `# deadbolt benchmark results

${QUICK ? '> **BENCH_QUICK=1 smoke test: 1 round, small counts. Not results to quote.**\n\n' : ''}Produced by \`${QUICK ? 'BENCH_QUICK=1 ' : ''}npm run bench\` (bench/run.ts). Every number below comes from that run.

- Date: ${date}
- Node: ${process.version} (${process.platform}/${process.arch})
- CPU: ${cpu} (${cores} logical cores)
- Method: ${ROUNDS} round(s) x ${jobs.length} child processes (${CONTENDERS.length} contenders x ${SCENARIOS.length} scenarios), run one at a time, round-robin with a different starting point each round. Each process warms up for at least ${WARMUP_MS} ms while calibrating its op count to ~${TARGET_SAMPLE_MS} ms per sample, then takes ${SAMPLES_PER_PROCESS} timed samples. Reported: the median ops/s of all ${ROUNDS * SAMPLES_PER_PROCESS} samples per contender and scenario.
- Total runtime: ${fmtSeconds(totalMs)}
- Machine load (1-minute load average, read before each process): median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}, on ${cores} logical cores. The benchmark itself keeps about one core busy; load well above 1 means other work shared the CPU during the run${
    median(loads) > 1.5 ? ' (**it did in this run: absolute numbers are depressed and noisier than on an idle machine**)' : ''
  }.

> **The machine is noisy** (a shared VM; absolute ops/s move from run to run, and between rounds of one run). Quote the ratios, which compare contenders measured side by side in the same rounds, not the absolute numbers. "Round spread" is half the range of the per-round medians, relative to the overall median.

## ${scenarioTitles.uncontended}

${tables.uncontended}

## ${scenarioTitles.contended}

${tables.contended}

Columns: "vs await-lock" and "vs floor" are this contender's ops/s divided by theirs (above 1x is faster). "Checked cost" is deadbolt fast ops/s / deadbolt checked ops/s: how many times a checked-mode op costs a fast-mode one. "Sample ms" is the median duration of one timed sample.

## Criteria

Evaluated on the medians above; "Held in rounds" evaluates the same criterion on each round's own medians, to show whether a verdict is robust to the noise or a coin toss.

${criteriaTable}

### Why (i) is out of reach for a guard-returning lock

${objectFloor}

### Where checked mode's cost goes

${breakdown}

## What is measured

${contenderList}

Contended, each op is the same call sequence with \`await null\` inside the critical section, so that the flows really interleave and nearly every acquisition queues. The floor contended is the same ${FLOWS} flows doing \`await null\` with no lock: the unlocked cost of the workload.

- Each (contender, scenario) runs in a fresh \`node --expose-gc\` process with DEADBOLT_CHECKS set (on only for deadbolt checked and the hooked floor, so no other process has deadbolt's async_hooks hook; peer and bare-floor processes never load deadbolt at all). Garbage is collected and the event loop turns between samples, outside timed code.
- deadbolt is imported from the built \`dist/index.js\`. The worker (bench/worker.ts, bench/contenders.ts) is transpiled with TypeScript and run by plain node, not tsx: tsx turns on source maps, which makes every captured stack dearer (checked mode captures one for each queued request).
- Mutual exclusion is checked (untimed) in every lock process after its samples; a violation aborts the run.
- deadbolt runs with its default configuration. ${
    loopBlocked > 0
      ? `In checked mode its watchdog reported the event loop as blocked (${loopBlocked} reports in this run), which is true: the benchmark loops run on microtasks and never yield. The reports are emitted between samples, outside timed code.`
      : 'Its watchdog reported no blocked event loop in this run.'
  } Other deadbolt warnings in this run: ${otherWarnings}.
${longSamples}`;
  // ---- deadbolt/fs: its own suite (bench/fs), run after the core one and reported in the same file.
  console.log('\ndeadbolt/fs benchmarks');
  const fsResults = await runFsBenchmarks({ quick: QUICK, log: (line) => console.log(line) });
  const fsFailed = fsResults.criteria.filter((criterion) => !criterion.pass);
  console.log(`\ndeadbolt/fs criteria: ${fsResults.criteria.length - fsFailed.length}/${fsResults.criteria.length} pass${fsFailed.length > 0 ? `; failed: ${fsFailed.map((c) => c.name).join('; ')}` : ''}`);
  console.log('\ndeadbolt/secure benchmarks');
  const secureResults = await runSecureBenchmarks({ quick: QUICK, log: (line) => console.log(line) });
  console.log('\ndeadbolt/threads benchmarks');
  const threadsResults = await runThreadsBenchmarks({ quick: QUICK, log: (line) => console.log(line) });
  const threadsFailed = threadsResults.criteria.filter((criterion) => !criterion.pass);
  console.log(`\ndeadbolt/threads criteria: ${threadsResults.criteria.length - threadsFailed.length}/${threadsResults.criteria.length} pass`);
  console.log('\ndeadbolt audit benchmarks');
  const auditResults = await runAuditBenchmarks({ quick: QUICK, log: (line) => console.log(line) });
  const auditFailed = auditResults.criteria.filter((criterion) => !criterion.pass);
  console.log(`\ndeadbolt audit criteria: ${auditResults.criteria.length - auditFailed.length}/${auditResults.criteria.length} pass${auditFailed.length > 0 ? `; failed: ${auditFailed.map((c) => c.name).join('; ')}` : ''}`);
  const sections = [md, fsResults.markdown, secureResults.markdown, threadsResults.markdown, auditResults.markdown].map((section) => section.trim());
  writeFileSync(resultsPath, `${sections.join('\n\n')}\n`);
  console.log(`Wrote ${QUICK ? resultsPath : relative(root, resultsPath)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
