/**
 * Runs the deadbolt/fs benchmarks on their own and prints the markdown:
 *
 *   npx tsup && node --import tsx bench/fs/main.ts
 *   BENCH_QUICK=1 node --import tsx bench/fs/main.ts   # smoke test: 1 round, small counts
 */
import { runFsBenchmarks } from './run-fs.js';

const quick = process.env.BENCH_QUICK === '1';
const { markdown, criteria } = await runFsBenchmarks({ quick, log: (line) => console.log(line) });
console.log(`\n${markdown}`);
const failed = criteria.filter((c) => !c.pass);
console.log(`\n${criteria.length - failed.length}/${criteria.length} criteria pass${failed.length > 0 ? `; failed: ${failed.map((c) => c.name).join('; ')}` : ''}`);
