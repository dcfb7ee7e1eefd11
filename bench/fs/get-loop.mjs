/**
 * Benchmark 5: `Store.get()` served from the cache (the file does not change), and for context
 * `fs.statSync` alone, in one process, with samples of the three loops interleaved.
 *
 *   node get-loop.mjs <config JSON>
 *
 * config: { distUrl, file, samples, targetMs, warmupMs }. Prints one JSON line.
 */
import { statSync } from 'node:fs';
import { report, runMain, sample, settle, warmUp, writeSeedFile } from './common.mjs';

async function main() {
  const config = JSON.parse(process.argv[2] ?? '');
  const { Store } = await import(config.distUrl);
  writeSeedFile(config.file, true);
  const store = new Store(config.file, { initial: {} });
  const first = store.get();
  let sink = 0;
  const loops = {
    get: async (n) => {
      for (let i = 0; i < n; i++) if (store.get() !== first) throw new Error('get() reloaded an unchanged file');
    },
    stat: async (n) => {
      for (let i = 0; i < n; i++) sink += statSync(config.file).size;
    },
    statBigint: async (n) => {
      for (let i = 0; i < n; i++) sink += Number(statSync(config.file, { bigint: true, throwIfNoEntry: false }).size);
    },
  };
  const units = {};
  for (const [name, run] of Object.entries(loops)) units[name] = await warmUp(run, 1_000, config.targetMs, config.warmupMs);
  const samples = { get: [], stat: [], statBigint: [] };
  for (let s = 0; s < config.samples; s++) {
    for (const [name, run] of Object.entries(loops)) samples[name].push(...(await sample(run, units[name], 1)));
  }
  await settle();
  report({ samples, sink: sink > 0 });
}

runMain(main);
