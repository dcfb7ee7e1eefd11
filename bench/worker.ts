/**
 * One benchmark process: one contender, one scenario. Started by bench/run.ts, which transpiles
 * this file and runs it with plain `node --expose-gc` (no tsx in the measured process), with
 * DEADBOLT_CHECKS already set in the environment.
 *
 *   node --expose-gc worker.js <contender> <scenario> '<WorkerConfig as JSON>'
 *
 * It warms up while calibrating the op count so that one sample takes about `targetMs`, takes
 * `samples` timed samples, checks mutual exclusion (untimed), and prints one JSON line
 * (WorkerResult) on stdout.
 */
import { CONTENDER_IDS, SCENARIOS, loadSubject, type ContenderId, type Scenario, type Subject } from './contenders.js';

export interface WorkerConfig {
  /** file: URL of the built dist/index.js. */
  readonly distUrl: string;
  readonly samples: number;
  /** Wall time one timed sample should take. */
  readonly targetMs: number;
  /** Minimum untimed warm-up (which also calibrates the op count), ms. */
  readonly warmupMs: number;
  /** Contended scenario shape: `flows` concurrent flows x `opsPerFlow` ops each, per pass. */
  readonly flows: number;
  readonly opsPerFlow: number;
}

export interface WorkerSample {
  readonly ops: number;
  readonly ms: number;
  readonly opsPerSec: number;
}

export interface WorkerResult {
  readonly contender: ContenderId;
  readonly scenario: Scenario;
  /** deadbolt's own report of its mode ('fast' | 'checked'); 'n/a' for the others. */
  readonly mode: string;
  readonly env: string | undefined;
  /** Ops per timed sample (contended: passes x flows x opsPerFlow). */
  readonly opsPerSample: number;
  /** Untimed calibration and warm-up, ms. */
  readonly warmupMs: number;
  readonly samples: readonly WorkerSample[];
  /** Times two holders were seen inside the critical section at once (must be 0). */
  readonly exclusionViolations: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Lets the event loop turn (timers, deadbolt's watchdog) and collects garbage, outside timed code. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  gc?.();
  await new Promise((resolve) => setImmediate(resolve));
}

async function time(run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/**
 * Warm-up and calibration in one: grows the unit count until one run takes at least a quarter of
 * the target, then keeps running, rescaling the count to the target after each run, until at least
 * `warmupMs` have been spent (so the JIT has settled before the count is final). Returns the count
 * and the ms spent.
 */
async function warmUp(run: (units: number) => Promise<void>, start: number, targetMs: number, warmupMs: number): Promise<{ units: number; spentMs: number }> {
  let units = start;
  let spentMs = 0;
  let sized = 0;
  for (;;) {
    const ms = await time(() => run(units));
    spentMs += ms;
    await settle();
    if (ms < targetMs / 4) {
      units *= ms < targetMs / 64 ? 8 : 2;
      continue;
    }
    units = Math.max(1, Math.round((units * targetMs) / ms));
    sized++;
    if (sized >= 2 && spentMs >= warmupMs) return { units, spentMs };
  }
}

/** Untimed sanity check: the lock really excludes, and every op completes. */
async function checkExclusion(subject: Subject): Promise<number> {
  let inside = 0;
  let violations = 0;
  let done = 0;
  const flows: Promise<void>[] = [];
  for (let f = 0; f < 20; f++) {
    flows.push(
      (async () => {
        for (let i = 0; i < 50; i++) {
          await subject.critical(async () => {
            inside++;
            if (inside > 1) violations++;
            await null;
            await null;
            inside--;
            done++;
          });
        }
      })(),
    );
  }
  await Promise.all(flows);
  if (done !== 20 * 50) throw new Error(`exclusion check: ${done} of ${20 * 50} ops completed`);
  return violations;
}

async function main(): Promise<void> {
  const [contender, scenario, rawConfig] = process.argv.slice(2);
  if (!CONTENDER_IDS.includes(contender as ContenderId)) throw new Error(`unknown contender ${String(contender)}`);
  if (!SCENARIOS.includes(scenario as Scenario)) throw new Error(`unknown scenario ${String(scenario)}`);
  const config = JSON.parse(rawConfig ?? '') as WorkerConfig;
  const id = contender as ContenderId;
  const subject = await loadSubject(id, config.distUrl);

  const { flows, opsPerFlow } = config;
  const run = scenario === 'uncontended' ? (n: number) => subject.uncontended(n) : (passes: number) => repeat(passes, () => subject.contended(flows, opsPerFlow));
  const opsPerUnit = scenario === 'uncontended' ? 1 : flows * opsPerFlow;

  await settle();
  const { units, spentMs } = await warmUp(run, scenario === 'uncontended' ? 1_000 : 1, config.targetMs, config.warmupMs);

  const samples: WorkerSample[] = [];
  for (let s = 0; s < config.samples; s++) {
    const ms = await time(() => run(units));
    const ops = units * opsPerUnit;
    samples.push({ ops, ms, opsPerSec: (ops / ms) * 1000 });
    await settle();
  }

  const exclusionViolations = id.startsWith('floor') ? 0 : await checkExclusion(subject);
  const result: WorkerResult = {
    contender: id,
    scenario: scenario as Scenario,
    mode: subject.mode(),
    env: process.env.DEADBOLT_CHECKS,
    opsPerSample: units * opsPerUnit,
    warmupMs: spentMs,
    samples,
    exclusionViolations,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function repeat(times: number, pass: () => Promise<void>): Promise<void> {
  for (let i = 0; i < times; i++) await pass();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
