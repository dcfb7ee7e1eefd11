/**
 * Runs the deadbolt/threads benchmarks on their own and prints the markdown:
 *
 *   npx tsup && node --import tsx bench/threads/main.ts
 *   BENCH_QUICK=1 node --import tsx bench/threads/main.ts   # smoke test: 1 round, small counts
 */
import { runThreadsBenchmarks } from './run-threads.js';

const quick = process.env.BENCH_QUICK === '1';
const started = performance.now();
const { markdown, criteria } = await runThreadsBenchmarks({ quick, log: (line) => console.log(line) });
console.log(`\n${markdown}`);
const failed = criteria.filter((c) => !c.pass);
for (const c of criteria) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
console.log(`\n${criteria.length - failed.length}/${criteria.length} criteria pass${failed.length > 0 ? `; failed: ${failed.map((c) => c.name).join('; ')}` : ''} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
