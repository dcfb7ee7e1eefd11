/**
 * Benchmark 1, one contender per process: sequential lock + unlock of one file lock, uncontended.
 *
 *   node lock-loop.mjs <deadbolt|proper-lockfile> <config JSON>
 *
 * config: { distUrl, indexUrl, dir, samples, targetMs, warmupMs }. Prints one JSON line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain, report, sample, settle, warmUp } from './common.mjs';

async function deadbolt(config) {
  const { FileLock } = await import(config.distUrl);
  const { getConfig } = await import(config.indexUrl);
  const lock = new FileLock(join(config.dir, 'bench.lock'));
  return {
    async run(n) {
      for (let i = 0; i < n; i++) {
        const guard = await lock.lock();
        guard.release();
      }
    },
    mode: () => (getConfig().checks ? 'checked' : 'fast'),
  };
}

async function properLockfile(config) {
  const { default: lockfile } = await import('proper-lockfile');
  const file = join(config.dir, 'data.json');
  writeFileSync(file, '{}\n');
  return {
    async run(n) {
      for (let i = 0; i < n; i++) {
        const release = await lockfile.lock(file, { realpath: false });
        await release();
      }
    },
    mode: () => 'n/a',
  };
}

async function main() {
  const [contender, rawConfig] = process.argv.slice(2);
  const config = JSON.parse(rawConfig ?? '');
  const subject = contender === 'deadbolt' ? await deadbolt(config) : contender === 'proper-lockfile' ? await properLockfile(config) : null;
  if (subject === null) throw new Error(`unknown contender ${contender}`);
  await settle();
  const units = await warmUp(subject.run, 100, config.targetMs, config.warmupMs);
  const samples = await sample(subject.run, units, config.samples);
  report({ contender, mode: subject.mode(), env: process.env.DEADBOLT_CHECKS ?? null, opsPerSample: units, samples });
}

runMain(main);
