/**
 * Helpers shared by the child processes of the deadbolt/fs benchmarks (bench/fs/*.mjs). These
 * files are plain ES modules run by plain `node` (no tsx, no transpiling), and they import
 * deadbolt from the built dist/fs.js, whose URL the parent passes in.
 */
import { writeFileSync } from 'node:fs';

/** A clock that all processes on the host share: ms since the Unix epoch, sub-ms resolution. */
export function now() {
  return performance.timeOrigin + performance.now();
}

const gc = /** @type {{ gc?: () => void }} */ (globalThis).gc;

/** Lets the event loop turn and collects garbage, outside timed code. */
export async function settle() {
  await new Promise((resolve) => setTimeout(resolve, 1));
  gc?.();
  await new Promise((resolve) => setImmediate(resolve));
}

/** ms taken by `run()`. */
export async function time(run) {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/**
 * Warm-up and calibration in one (as in bench/worker.ts): grows the unit count until one run
 * takes at least a quarter of the target, then keeps rescaling it to the target until at least
 * `warmupMs` have been spent. Returns the unit count.
 *
 * @param {(units: number) => Promise<void>} run
 */
export async function warmUp(run, start, targetMs, warmupMs) {
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
    if (sized >= 2 && spentMs >= warmupMs) return units;
  }
}

/** Timed samples of `run(units)`. */
export async function sample(run, units, count) {
  const samples = [];
  for (let s = 0; s < count; s++) {
    const ms = await time(() => run(units));
    samples.push({ ops: units, ms, opsPerSec: (units / ms) * 1000 });
    await settle();
  }
  return samples;
}

export const SEED_KEYS = 100;

/** The JSON object every Store benchmark starts from: 100 keys. */
export function seedData() {
  const data = {};
  for (let i = 0; i < SEED_KEYS; i++) data[`seed-${String(i).padStart(3, '0')}`] = { n: i, by: 'seed', note: 'initial entry' };
  return data;
}

/** The value each benchmark update stores under its new key. */
export function entry(n, by) {
  return { n, by, note: 'added by an update' };
}

/** Writes the starting file of a contender: deadbolt's `{ version, data }` envelope, or the bare object. */
export function writeSeedFile(path, envelope) {
  const data = seedData();
  writeFileSync(path, `${JSON.stringify(envelope ? { version: 1, data } : data, null, 2)}\n`);
}

/** The last line of stdout is the result, as JSON. */
export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Runs `main`, reporting a failure on stderr with a non-zero exit code. */
export function runMain(main) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
    // A child with an IPC channel would otherwise stay alive.
    process.disconnect?.();
  });
}
