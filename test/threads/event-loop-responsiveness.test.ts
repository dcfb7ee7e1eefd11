// Issue 5's responsiveness test. A CPU-heavy task (PBKDF2, ~25 ms chunks, two runs of 16) run
// inline pushes the p99 event-loop delay far past 5 ms; the same task module run through
// offload() keeps p99 under 5 ms, while the main thread keeps taking and releasing a core Mutex
// and a SharedMutex throughout.
//
// Measured with watchEventLoop's own stats at resolution 1 ms: perf_hooks samples once per
// resolution, so 1 ms gives ~1,600 samples over the offloaded runs (p99 is the 16th worst), where
// the default 10 ms would give ~160 and make p99 the worst one or two. Inline, the loop turns only
// between chunks, so there are only ~32 samples, each a whole chunk late: that is the point.
//
// The lock traffic is bursts of 20 lock/unlock rounds (Mutex, then SharedMutex inside it) every
// ms, about 13k rounds a second. It is not a spin loop: on this 2-core machine a main thread that
// never idles competes with the worker for the cores, and the delay then measures the machine's
// overload, not the loop (see the report for those figures).
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { describe, it } from 'node:test';
import { Mutex } from '../../dist/index.js';
import { SharedMutex, offload, watchEventLoop, type EventLoopStats } from '../../dist/threads.js';
import { checkedMode, fastMode, sleep, uniqueName } from './fixtures/harness.js';

interface HeavyResult {
  readonly key: string;
  readonly chunkMs: number[];
}
type Heavy = (input: { chunks: number; iterations: number }) => Promise<HeavyResult>;

const task = new URL('./fixtures/offload-heavy.mjs', import.meta.url);
/** The same module, for running the task inline. */
const { default: heavy } = (await import(task.href)) as { default: Heavy };
const CHUNKS = 16;
const RUNS = 2;
const CHUNK_MS = 25;
/** The bound on p99 loop delay with the work offloaded. */
const P99_LIMIT_MS = 5;
/** "Well past" 5 ms: inline, every sample is a whole chunk (~25 ms) late. */
const INLINE_P99_AT_LEAST_MS = 15;

/** PBKDF2 iterations that take about CHUNK_MS on this machine (the median of a few probes: one can be preempted). */
function calibrate(): number {
  const probe = 20_000;
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const started = performance.now();
    pbkdf2Sync('calibrate', 'salt', probe, 32, 'sha256');
    times.push(performance.now() - started);
  }
  const median = times.sort((a, b) => a - b)[3] as number;
  return Math.max(probe, Math.round((probe * CHUNK_MS) / median));
}

interface Measured {
  readonly stats: EventLoopStats;
  readonly rounds: number;
  readonly elapsed: number;
  readonly meanChunkMs: number;
}

/** Runs `work` RUNS times while the main thread locks and unlocks both locks, and measures the loop. */
async function measure(work: () => Promise<HeavyResult>): Promise<Measured> {
  const mutex = new Mutex({ name: uniqueName('resp-core'), rank: 1 });
  const shared = new SharedMutex({ name: uniqueName('resp-shared'), rank: 2 });
  let rounds = 0;
  let working = true;
  const traffic = (async () => {
    while (working) {
      for (let i = 0; i < 20; i++) {
        const a = await mutex.lock();
        const b = await shared.lock();
        rounds++;
        b.release();
        a.release();
      }
      await sleep(1);
    }
  })();
  using watch = watchEventLoop({ thresholdMs: 1_000, resolution: 1 });
  await sleep(20);
  watch.reset();
  rounds = 0;
  const started = performance.now();
  const chunkMs: number[] = [];
  for (let run = 0; run < RUNS; run++) chunkMs.push(...(await work()).chunkMs);
  const elapsed = performance.now() - started;
  const stats = watch.stats();
  working = false;
  await traffic;
  return { stats, rounds, elapsed, meanChunkMs: chunkMs.reduce((sum, ms) => sum + ms, 0) / chunkMs.length };
}

// Chunks far slower than calibrated mean other processes took the cores: the figures then
// measure the machine's load (reported as they are, never excused).
const show = ({ stats, rounds, elapsed, meanChunkMs }: Measured): string =>
  `p50 ${stats.p50.toFixed(2)} p90 ${stats.p90.toFixed(2)} p99 ${stats.p99.toFixed(2)} max ${stats.max.toFixed(2)} ms over ${stats.count} samples; ${rounds} lock rounds in ${elapsed.toFixed(0)} ms; chunks ${meanChunkMs.toFixed(1)} ms (calibrated for ${CHUNK_MS})`;

for (const checks of [true, false]) {
  describe(`event-loop responsiveness (${checks ? 'checked' : 'fast'} mode)`, { timeout: 60_000 }, () => {
    it(`inline heavy work pushes p99 past ${INLINE_P99_AT_LEAST_MS} ms; offloaded, p99 stays under ${P99_LIMIT_MS} ms while locks are taken and released`, async (t) => {
      (checks ? checkedMode : fastMode)();
      const iterations = calibrate();
      const input = { chunks: CHUNKS, iterations };
      // A pool is long-lived: its worker's start-up is not what this measures.
      await offload(task, { chunks: 1, iterations: 1 });

      const inline = await measure(() => heavy(input));
      t.diagnostic(`inline:  ${show(inline)}`);
      const offloaded = await measure(() => offload<typeof input, HeavyResult>(task, input));
      t.diagnostic(`offload: ${show(offloaded)}`);

      assert.ok(inline.stats.p99 > INLINE_P99_AT_LEAST_MS, `inline p99 should be far past ${P99_LIMIT_MS} ms: ${show(inline)}`);
      assert.ok(offloaded.stats.p99 < P99_LIMIT_MS, `offloaded p99 should stay under ${P99_LIMIT_MS} ms: ${show(offloaded)}`);
      // The figures mean something only if the loop was sampled and the locks kept moving throughout.
      assert.ok(offloaded.stats.count >= offloaded.elapsed * 0.5, `too few samples: ${show(offloaded)}`);
      assert.ok(offloaded.rounds >= offloaded.elapsed * 5, `too little lock traffic during the offloaded work: ${show(offloaded)}`);
      assert.ok(offloaded.meanChunkMs >= CHUNK_MS * 0.5, `the offloaded work was lighter than intended: ${show(offloaded)}`);
    });
  });
}
