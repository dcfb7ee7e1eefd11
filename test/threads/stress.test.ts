// `npm run test:stress` (DEADBOLT_STRESS=1) runs the contended thread workloads at ten times their
// normal counts; the normal suite runs them once, from workloads.test.ts, at the normal counts.
import { it } from 'node:test';

if (process.env.DEADBOLT_STRESS === '1') await import('./workloads.test.js');
else it('the thread workload stress run needs DEADBOLT_STRESS=1 (npm run test:stress)', { skip: true });
