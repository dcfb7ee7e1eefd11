/**
 * deadbolt/threads benchmarks: SharedMutex against the floor (a bare compare-and-swap +
 * Atomics.wait mutex) and V8's Atomics.Mutex.
 *
 * - Uncontended: lock + unlock in a loop in ONE worker thread (bench/threads/uncontended.mjs).
 * - Contended: two worker threads take one lock K times each around a non-atomic increment of a
 *   shared counter (bench/threads/contended.mjs); the count must come out at exactly 2K.
 *
 * Every measurement is a fresh plain-node child process on a snapshot of the built dist/ (taken at
 * the start, so one build is measured throughout); contenders are interleaved round-robin with a
 * different starting point each round; figures are medians of all samples. Returns a markdown
 * section for bench/RESULTS.md and the criteria.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measuredEnv, runJsonChild } from '../child.js';
import { fmtOps, fmtRatio, median, rotate, spread, table } from '../stats.js';

export interface ThreadsCriterion {
  name: string;
  pass: boolean;
  detail: string;
}

/** The criterion: the floor may be at most this many times faster than uncontended SharedMutex (checks off). */
const FLOOR_RATIO = 2;

interface Sample {
  readonly ops: number;
  readonly ms: number;
  readonly opsPerSec: number;
  /** Contended only: how many times the lock passed from one worker to the other. */
  readonly handoffs?: number;
}
interface ChildResult {
  readonly mode: string;
  readonly available: boolean;
  readonly samples: Sample[];
  readonly units: number;
  /** Contended only: runs whose final count was verified (warm-up included). */
  readonly runs?: number;
}

type Script = 'uncontended' | 'contended';
interface Contender {
  readonly id: string;
  readonly script: Script;
  readonly mode: string;
  readonly checks: 'on' | 'off';
  readonly label: string;
  readonly harmonyStruct?: boolean;
}

const UNCONTENDED: readonly Contender[] = [
  { id: 'u-sync-off', script: 'uncontended', mode: 'deadbolt-sync', checks: 'off', label: 'deadbolt `SharedMutex`: `m.lockSync().release()`, checks off' },
  { id: 'u-sync-on', script: 'uncontended', mode: 'deadbolt-sync', checks: 'on', label: 'the same, checks on' },
  { id: 'u-async-off', script: 'uncontended', mode: 'deadbolt-async', checks: 'off', label: 'deadbolt `SharedMutex`: `(await m.lock()).release()`, checks off' },
  { id: 'u-try-off', script: 'uncontended', mode: 'deadbolt-try', checks: 'off', label: 'deadbolt `SharedMutex`: `m.tryLock().release()`, checks off (for the breakdown)' },
  { id: 'u-read-off', script: 'uncontended', mode: 'deadbolt-read', checks: 'off', label: 'deadbolt `SharedRwLock`: `l.readSync().release()`, checks off' },
  { id: 'u-sem-off', script: 'uncontended', mode: 'deadbolt-sem', checks: 'off', label: 'deadbolt `SharedSemaphore(4)`: `s.acquireSync().release()`, checks off' },
  { id: 'u-local-off', script: 'uncontended', mode: 'deadbolt-local', checks: 'off', label: 'deadbolt in-thread `Mutex`: `m.tryLock().release()`, checks off (no atomics; for the breakdown)' },
  { id: 'u-floor', script: 'uncontended', mode: 'floor', checks: 'off', label: 'floor: bare CAS + `Atomics.wait` mutex (the baseline)' },
  { id: 'u-atomics', script: 'uncontended', mode: 'atomics-mutex', checks: 'off', label: 'V8 `Atomics.Mutex.lock(m, () => {})` (`--harmony-struct`)', harmonyStruct: true },
];
const CONTENDED: readonly Contender[] = [
  { id: 'c-sync-off', script: 'contended', mode: 'deadbolt-sync', checks: 'off', label: 'deadbolt `SharedMutex`: `lockSync()` … `release()`, checks off' },
  { id: 'c-floor', script: 'contended', mode: 'floor', checks: 'off', label: 'floor: bare CAS + `Atomics.wait` mutex (the baseline)' },
  { id: 'c-atomics', script: 'contended', mode: 'atomics-mutex', checks: 'off', label: 'V8 `Atomics.Mutex.lock(m, fn)` (`--harmony-struct`)', harmonyStruct: true },
];

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const distThreads = join(root, 'dist', 'threads.js');

/**
 * Copies dist/ to a temp directory, so that the whole run measures one build even if dist/ is
 * rebuilt meanwhile (its dependencies resolve through a symlink to the repository's node_modules).
 */
function snapshotDist(): { dir: string; threadsUrl: string } {
  const dir = mkdtempSync(join(os.tmpdir(), 'deadbolt-bench-threads-'));
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, threadsUrl: pathToFileURL(join(dir, 'dist', 'threads.js')).href };
}

/** A source file of deadbolt/threads (or what it builds on) newer than dist/threads.js, if any. */
function staleDist(): string | null {
  const built = statSync(distThreads).mtimeMs;
  for (const sub of ['threads', 'discipline', 'primitives']) {
    const dir = join(root, 'src', sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) if (name.endsWith('.ts') && statSync(join(dir, name)).mtimeMs > built) return join(dir, name);
  }
  return null;
}

export async function runThreadsBenchmarks(options: { quick: boolean; log: (line: string) => void }): Promise<{ markdown: string; criteria: ThreadsCriterion[] }> {
  const { quick, log } = options;
  if (!existsSync(distThreads)) throw new Error('dist/threads.js is missing: build first (`npx tsup`; `npm run bench` does).');
  const stale = staleDist();
  if (stale !== null) log(`warning: ${stale} is newer than dist/threads.js; the benchmark measures dist (rebuild with \`npx tsup\`)`);
  const snapshot = snapshotDist();
  try {
    return await runAll(quick, log, snapshot.threadsUrl);
  } finally {
    rmSync(snapshot.dir, { recursive: true, force: true });
  }
}

async function runAll(quick: boolean, log: (line: string) => void, distUrl: string): Promise<{ markdown: string; criteria: ThreadsCriterion[] }> {
  const started = performance.now();
  const rounds = quick ? 1 : 3;
  const config = { distUrl, samples: quick ? 2 : 5, targetMs: quick ? 50 : 100, warmupMs: quick ? 100 : 200 };
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const cores = os.cpus().length;
  log(`deadbolt/threads bench${quick ? ' (quick: 1 round, small counts)' : ''}: node ${process.version}, ${cpu} x ${cores}`);

  const contenders = [...UNCONTENDED, ...CONTENDED];
  /** Per contender: the samples of each round (empty where the contender is not available). */
  const results = new Map<string, ChildResult[]>(contenders.map((c) => [c.id, []]));
  const unavailable = new Map<string, string>();
  const loads: number[] = [];
  /** deadbolt warning codes the children printed (on stderr), with counts. */
  const codes = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    for (const c of rotate(contenders, round, rounds)) {
      if (unavailable.has(c.id)) continue;
      loads.push(os.loadavg()[0] ?? NaN);
      const args = [...(c.harmonyStruct ? ['--harmony-struct'] : []), join(here, `${c.script}.mjs`), JSON.stringify({ ...config, mode: c.mode })];
      let result: ChildResult;
      try {
        let stderr: string;
        ({ result, stderr } = await runJsonChild<ChildResult>(`${c.script} ${c.mode} (checks ${c.checks})`, args, measuredEnv(c.checks), root));
        for (const [, code] of stderr.matchAll(/\[(DEADBOLT_[A-Z_]+)\]/g)) codes.set(`${code!} (${c.id})`, (codes.get(`${code!} (${c.id})`) ?? 0) + 1);
      } catch (error) {
        // A node without --harmony-struct refuses the flag: Atomics.Mutex is n/a there. Anything else is a failure.
        if (!c.harmonyStruct || !/bad option|unrecognized flag/i.test(String(error))) throw error;
        unavailable.set(c.id, `node ${process.version} does not start with --harmony-struct`);
        log(`[threads] ${c.id}: n/a (${String(error).split('\n')[0]})`);
        continue;
      }
      if (!result.available) {
        unavailable.set(c.id, `\`typeof Atomics.Mutex\` is not 'function' under --harmony-struct on node ${process.version}`);
        log(`[threads] ${c.id}: n/a (no Atomics.Mutex)`);
        continue;
      }
      results.get(c.id)!.push(result);
      const ops = result.samples.map((s) => s.opsPerSec);
      log(`[threads ${round + 1}/${rounds}] ${c.id.padEnd(11)} ${fmtOps(median(ops)).padStart(8)} ops/s (samples: ${ops.map(fmtOps).join(', ')}; ${result.units.toLocaleString('en-US')} ops/sample${c.script === 'contended' ? ` per worker; ${result.runs} runs counted exactly; hand-offs/sample ${result.samples.map((x) => x.handoffs).join(', ')}` : ''})`);
    }
  }

  const all = (id: string): number => median(results.get(id)!.flatMap((r) => r.samples.map((s) => s.opsPerSec)));
  const perRound = (id: string): number[] => results.get(id)!.map((r) => median(r.samples.map((s) => s.opsPerSec)));
  const row = (c: Contender, floorId: string): string[] => {
    if (unavailable.has(c.id)) return [c.label, 'n/a', 'n/a', 'n/a', 'n/a'];
    const ops = all(c.id);
    return [c.label, fmtOps(ops), (1e9 / ops).toFixed(1), spread(perRound(c.id), ops), fmtRatio(all(floorId) / ops)];
  };
  const nsOf = (id: string): string => (unavailable.has(id) || results.get(id)!.length === 0 ? 'n/a' : (1e9 / all(id)).toFixed(1));
  const header = ['Lock', 'Median ops/s', 'ns/op', 'Round spread', 'Cost vs floor'];
  const align = ['l', 'r', 'r', 'r', 'r'] as const;
  /** Median hand-offs between the two workers per 1,000 contended ops. */
  const handoffs = (c: Contender): string => {
    if (unavailable.has(c.id)) return 'n/a';
    const perK = results.get(c.id)!.flatMap((r) => r.samples.map((s) => ((s.handoffs ?? NaN) / s.ops) * 1000));
    const m = median(perK);
    return Number.isFinite(m) ? (m >= 10 ? m.toFixed(0) : m.toPrecision(2)) : 'n/a';
  };
  const contendedTable = table([...header, 'Hand-offs per 1,000 ops'], CONTENDED.map((c) => [...row(c, 'c-floor'), handoffs(c)]), [...align, 'r']);

  // ---- the criterion
  const floor = all('u-floor');
  const fast = all('u-sync-off');
  const checked = all('u-sync-on');
  const ratio = floor / fast;
  const floorRounds = perRound('u-floor');
  const fastRounds = perRound('u-sync-off');
  const held = fastRounds.filter((v, r) => floorRounds[r]! / v <= FLOOR_RATIO).length;
  const criteria: ThreadsCriterion[] = [
    {
      name: `Uncontended SharedMutex lock+unlock (checks off) within ${FLOOR_RATIO}x of the bare CAS floor`,
      pass: ratio <= FLOOR_RATIO,
      detail: `floor/deadbolt = ${fmtRatio(ratio)} (floor ${fmtOps(floor)} ops/s, SharedMutex ${fmtOps(fast)} ops/s); held in ${held}/${fastRounds.length} rounds`,
    },
  ];
  const criteriaTable = table(
    ['Criterion', 'Measured (medians)', 'Result'],
    criteria.map((c) => [c.name, c.detail, c.pass ? '**PASS**' : '**FAIL**']),
    ['l', 'l', 'l'],
  );

  const contendedRuns = CONTENDED.filter((c) => !unavailable.has(c.id)).map((c) => `${c.mode} ${results.get(c.id)!.reduce((n, r) => n + (r.runs ?? 0), 0)}`);
  const naNotes = [...unavailable.entries()].map(([id, why]) => `- ${id}: n/a, ${why}.`).join('\n');
  const printed = [...codes.entries()].map(([code, n]) => `${code} x${n}`).join(', ');
  const date = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const markdown = `## deadbolt/threads: SharedMutex against the bare CAS floor

${quick ? '> **BENCH_QUICK=1 smoke test of deadbolt/threads: 1 round, small counts. Not results to quote.**\n\n' : ''}${criteriaTable}

Checked mode (no criterion): floor/deadbolt = ${fmtRatio(floor / checked)} for \`lockSync()\` + \`release()\` with DEADBOLT_CHECKS=on (${fmtOps(checked)} ops/s); checked cost over checks off: ${fmtRatio(fast / checked)}.

### Uncontended lock + unlock in one worker thread

${table(header, UNCONTENDED.map((c) => row(c, 'u-floor')), align)}

A loop of lock + unlock of one lock with an empty critical section, run by one worker thread that the child process spawns (its main thread creates the lock, as a program would, and posts it: \`mutex.handle\` rebuilt with \`SharedMutex.from(handle)\`, the floor's Int32Array, the Atomics.Mutex). "Cost vs floor" is floor ops/s over these ops/s: how many floor lock + unlock pairs one costs. The floor takes the free word with one \`compareExchange\` 0→1 and frees it with one \`exchange\` to 0 (notifying only if it was 2).

Breakdown: SharedMutex is deadbolt's in-thread FIFO lock (a guard object, the queue check, in-thread bookkeeping) in front of a futex word taken and freed like the floor's. The in-thread \`Mutex\` row measures that layer alone (no atomics), so floor + in-thread Mutex ≈ ${nsOf('u-floor')} + ${nsOf('u-local-off')} = ${(Number(nsOf('u-floor')) + Number(nsOf('u-local-off'))).toFixed(1)} ns against ${nsOf('u-try-off')} ns for SharedMutex \`tryLock()\` + \`release()\` (the rest is the glue between the two); \`lockSync()\` adds its option handling (${nsOf('u-sync-off')} ns). Checked mode adds the discipline's per-acquisition records (the engine's request, grant and release).

### Contended: two worker threads, one lock

${contendedTable}

Two worker threads each take the lock K times (K calibrated to ~${config.targetMs} ms per run) around a tiny critical section on a shared Int32Array (a non-atomic \`count[0] = count[0] + 1\`, and noting which worker held the lock last, to count the hand-offs from one worker to the other), released together by a barrier; ops/s is 2K over the span from the first start to the last finish (a shared clock). After every run, warm-up included, the count must be exactly 2K or the run aborts; runs verified: ${contendedRuns.join(', ')}. None of these locks is fair across threads: a releasing thread usually re-takes the lock before the woken one runs, so total throughput depends mostly on how often the lock changes hands (each hand-off moves the lock word and the data between cores and may cost a futex wake-up). Read the ops/s with the hand-off column: a lock that rarely hands off runs the two workers nearly one after the other, at about its uncontended speed, which is throughput, not fairness.
${naNotes === '' ? '' : `\n${naNotes}\n`}
### Method

- Produced by bench/threads/run-threads.ts on ${date}: Node ${process.version} (${process.platform}/${process.arch}), ${cpu} (${cores} logical cores). ${rounds} round(s); every measurement is a fresh \`node --expose-gc\` process (plain node on bench/threads/*.mjs, no tsx) on a snapshot of the built dist/threads.js, DEADBOLT_CHECKS=off except the checks-on row; the Atomics.Mutex processes add \`--harmony-struct\`. Contenders are interleaved round-robin with a different starting point each round. Each loop warms up while calibrating its op count (bench/fs/common.mjs), then takes ${config.samples} samples of ~${config.targetMs} ms, collecting garbage between samples outside timed code (the forced collection leaves a fresh young generation, which costs the allocating deadbolt loops, a guard per acquisition, slightly more than the non-allocating floor; the shorter the samples, the more). Figures are medians of all samples; "Round spread" is half the range of the per-round medians, relative to the overall median.
- Runtime: ${((performance.now() - started) / 1000).toFixed(1)} s; 1-minute load average before each process: median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)}${median(loads) > cores * 0.75 ? ' (**other work shared the CPU: the contended figures in particular are depressed and noisy**)' : ''}. Quote the ratios, measured side by side, rather than absolute numbers.
- deadbolt diagnostics printed by the children: ${printed === '' ? 'none' : printed}.
`;
  return { markdown, criteria };
}
