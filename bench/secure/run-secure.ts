/**
 * deadbolt/secure benchmarks: each round runs bench/secure/secure-loop.mjs in a fresh plain-node
 * process per mode (fast, checked) on the built dist/secure.js, and the figures are the medians
 * of all samples. Returns a markdown section for bench/RESULTS.md.
 */
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measuredEnv, runJsonChild } from '../child.js';
import { fmtMs, fmtOps, fmtRatio, median, spread, table } from '../stats.js';

interface Sample {
  readonly opsPerSec: number;
}
interface LoopResult {
  readonly samples: Record<'secretbox' | 'enclave' | 'withBytes' | 'plainCallback', Sample[]>;
  readonly purgeMs: number[];
}

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');

async function runLoop(checks: 'on' | 'off', config: object): Promise<LoopResult> {
  const { result } = await runJsonChild<LoopResult>(`secure-loop (checks ${checks})`, [join(here, 'secure-loop.mjs'), JSON.stringify(config)], measuredEnv(checks), root);
  return result;
}

export async function runSecureBenchmarks(options: { quick: boolean; log: (line: string) => void }): Promise<{ markdown: string }> {
  const started = performance.now();
  const rounds = options.quick ? 1 : 3;
  const config = {
    distUrl: pathToFileURL(join(root, 'dist', 'secure.js')).href,
    sodiumPath: join(root, 'node_modules', 'sodium-native'),
    samples: options.quick ? 2 : 5,
    targetMs: options.quick ? 20 : 100,
    warmupMs: options.quick ? 40 : 200,
    purgeTrials: options.quick ? 2 : 5,
  };
  const results: Record<'off' | 'on', LoopResult[]> = { off: [], on: [] };
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const checks of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      loads.push(os.loadavg()[0] ?? NaN);
      const result = await runLoop(checks, config);
      results[checks].push(result);
      options.log(`[secure ${round + 1}/${rounds}] checks ${checks}: enclave ${fmtOps(median(result.samples.enclave.map((s) => s.opsPerSec)))}/s, withBytes ${fmtOps(median(result.samples.withBytes.map((s) => s.opsPerSec)))}/s, purge(1,000) ${fmtMs(median(result.purgeMs))}`);
    }
  }
  const ops = (checks: 'off' | 'on', loop: keyof LoopResult['samples']): { all: number; perRound: number[] } => ({
    all: median(results[checks].flatMap((r) => r.samples[loop].map((s) => s.opsPerSec))),
    perRound: results[checks].map((r) => median(r.samples[loop].map((s) => s.opsPerSec))),
  });
  const row = (label: string, checks: 'off' | 'on', loop: keyof LoopResult['samples'], base: keyof LoopResult['samples']): string[] => {
    const m = ops(checks, loop);
    const b = ops('off', base).all;
    return [label, fmtOps(m.all), `${(1e6 / m.all).toFixed(2)} µs`, spread(m.perRound, m.all), fmtRatio(b / m.all)];
  };
  const cryptoTable = table(
    ['Operation (32 bytes)', 'Median ops/s', 'per op', 'Round spread', 'Cost vs baseline'],
    [
      row('bare `crypto_secretbox_easy` + `open_easy` (random nonce; the baseline)', 'off', 'secretbox', 'secretbox'),
      row('`Enclave.seal(LockedBuffer.random(32))` + `open()` + `destroy()`, fast mode', 'off', 'enclave', 'secretbox'),
      row('the same, checked mode', 'on', 'enclave', 'secretbox'),
    ],
    ['l', 'r', 'r', 'r', 'r'],
  );
  const accessTable = table(
    ['Operation', 'Median ops/s', 'per op', 'Round spread', 'Cost vs baseline'],
    [
      row('`await (async () => fn(plainBuffer))()` (the baseline)', 'off', 'plainCallback', 'plainCallback'),
      row('`await secret.withBytes(fn)`, fast mode', 'off', 'withBytes', 'plainCallback'),
      row('`await secret.withBytes(fn)`, checked mode', 'on', 'withBytes', 'plainCallback'),
    ],
    ['l', 'r', 'r', 'r', 'r'],
  );
  const purgeRow = (checks: 'off' | 'on'): string[] => {
    const all = results[checks].flatMap((r) => r.purgeMs);
    return [checks === 'off' ? 'fast mode' : 'checked mode', fmtMs(median(all)), fmtMs(Math.max(...all)), `${median(all).toFixed(1)} µs` /* ms per 1,000 buffers = µs per buffer */, String(all.length)];
  };
  const purgeTable = table(['purge() of 1,000 live LockedBuffers', 'Median', 'Max', 'per buffer', 'Trials'], [purgeRow('off'), purgeRow('on')], ['l', 'r', 'r', 'r', 'r']);
  const date = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const markdown = `## deadbolt/secure: the cost of the secure layer

${options.quick ? '> **BENCH_QUICK=1 smoke test: not results to quote.**\n\n' : ''}### Enclave seal and open against a bare secretbox round trip

${cryptoTable}

An enclave round trip allocates two secure buffers (sodium_malloc: guard pages, mlock, a canary) and frees them, derives the coffer key into a third (two BLAKE2b hashes and an XOR), and changes page protection several times; the cipher itself is the baseline's. "Cost vs baseline" is how many baseline operations one costs.

### Secret.withBytes

${accessTable}

withBytes takes the secret's lock twice (to count the reader in and out) and mprotects twice (readable while the first reader is in, no-access after the last).

### purge()

${purgeTable}

- Produced by bench/secure/run-secure.ts (part of \`npm run bench\`) on ${date}: Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} logical cores). ${rounds} round(s), each a fresh \`node --expose-gc\` process per mode on the built dist/secure.js, loops interleaved within a process; medians of all samples. Runtime: ${((performance.now() - started) / 1000).toFixed(1)} s; 1-minute load average before each process: median ${median(loads).toFixed(2)}.
`;
  return { markdown };
}
