/**
 * Runs the deadbolt audit benchmark on its own and prints the markdown:
 *
 *   npx tsup && node --import tsx bench/audit/main.ts
 *   BENCH_QUICK=1 node --import tsx bench/audit/main.ts   # smoke test: 1 round, 300 files
 */
import { runAuditBenchmarks } from './run-audit.js';

const quick = process.env.BENCH_QUICK === '1';
const started = performance.now();
const { markdown, criteria } = await runAuditBenchmarks({ quick, log: (line) => console.log(line) });
console.log(`\n${markdown}`);
const failed = criteria.filter((c) => !c.pass);
for (const c of criteria) console.log(`${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
console.log(`\n${criteria.length - failed.length}/${criteria.length} criteria pass (${((performance.now() - started) / 1000).toFixed(1)} s)`);
