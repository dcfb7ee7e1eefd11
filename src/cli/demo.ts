import { registryStep } from './demo-registry.js';
import { secureStep } from './demo-secure.js';
import { configure, DeadlockError, getConfig, lockAll, lockGraph, LockOrderError, LockTimeoutError, Mutex, resetLockGraph, type DeadboltError } from '../index.js';

/** One demo step: what it shows, and whether deadbolt behaved as promised. */
export interface DemoStep {
  readonly title: string;
  readonly expected: string;
  readonly outcome: string;
  readonly ok: boolean;
  readonly report: string | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function outcomeOf(error: unknown): { outcome: string; report: string | undefined } {
  if (error instanceof Error && 'code' in error) return { outcome: `${error.name} (${String(error.code)})`, report: (error as DeadboltError).report };
  return { outcome: error instanceof Error ? `${error.name}: ${error.message}` : String(error), report: undefined };
}

/** The memguard lock strategy: COFFER before BUFFERS before any per-buffer lock. */
function seedLocks(): { coffer: Mutex; buffers: Mutex; bufferA: Mutex; bufferB: Mutex } {
  return {
    coffer: new Mutex({ name: 'coffer', rank: 10 }),
    buffers: new Mutex({ name: 'buffers', rank: 20 }),
    bufferA: new Mutex({ name: 'buffer', rank: 30 }),
    bufferB: new Mutex({ name: 'buffer', rank: 30 }),
  };
}

async function rankViolation(): Promise<DemoStep> {
  const { coffer, bufferA } = seedLocks();
  const title = 'Rank violation: a flow holding a buffer lock (rank 30) asks for the coffer (rank 10)';
  try {
    await bufferA.run(() => coffer.run(() => 'rekeyed'));
    return { title, expected: 'LockOrderError', outcome: 'no error', ok: false, report: undefined };
  } catch (error) {
    return { title, expected: 'LockOrderError', ...outcomeOf(error), ok: error instanceof LockOrderError && error.kind === 'rank' };
  }
}

async function orderInversion(): Promise<DemoStep> {
  const sessions = new Mutex({ name: 'sessions' });
  const cache = new Mutex({ name: 'cache' });
  const title = 'Order inversion, caught before it ever deadlocks: a request handler takes sessions -> cache; later a cleanup job takes cache -> sessions';
  await sessions.run(() => cache.run(() => 'served'));
  try {
    // deadbolt-ignore-next-line lock-order-inversion -- the demo takes the locks in the wrong order on purpose
    await cache.run(() => sessions.run(() => 'cleaned'));
    return { title, expected: 'LockOrderError', outcome: 'no error', ok: false, report: undefined };
  } catch (error) {
    return { title, expected: 'LockOrderError', ...outcomeOf(error), ok: error instanceof LockOrderError && error.kind === 'order-cycle' };
  }
}

/** Two transfers lock two accounts in opposite orders, at the same time. */
async function transfer(from: Mutex, to: Mutex): Promise<string> {
  const first = await from.lock({ timeout: 500 });
  try {
    await sleep(20);
    const second = await to.lock({ timeout: 500 });
    second.release();
    return 'done';
  } finally {
    first.release();
  }
}

async function settle(flows: Promise<string>[]): Promise<{ results: string[]; errors: unknown[] }> {
  const settled = await Promise.allSettled(flows);
  return {
    results: settled.map((result) => (result.status === 'fulfilled' ? result.value : `rejected: ${(result.reason as Error).name}`)),
    errors: settled.flatMap((result) => (result.status === 'rejected' ? [result.reason] : [])),
  };
}

async function realDeadlock(): Promise<DemoStep> {
  const alice = new Mutex({ name: 'account:alice' });
  const bob = new Mutex({ name: 'account:bob' });
  const title = 'A real AB/BA deadlock: transfer(alice -> bob) and transfer(bob -> alice) at once';
  const started = performance.now();
  const { results, errors } = await settle([transfer(alice, bob), transfer(bob, alice)]);
  const elapsed = Math.round(performance.now() - started);
  const deadlock = errors.find((error) => error instanceof DeadlockError);
  const ok = deadlock !== undefined && errors.length === 1 && results.includes('done') && elapsed < 400;
  return { title, expected: 'DeadlockError for one flow; the other completes', ...outcomeOf(deadlock ?? errors[0]), outcome: `${results.join(', ')} in ${elapsed} ms`, ok };
}

async function sameDeadlockUnchecked(): Promise<DemoStep> {
  const title = 'The same transfers with checks off, as with every other npm lock: the flows hang (here until a 500 ms timeout frees one)';
  const before = getConfig().checks;
  configure({ checks: false });
  try {
    const alice = new Mutex({ name: 'account:alice' });
    const bob = new Mutex({ name: 'account:bob' });
    const started = performance.now();
    const { results, errors } = await settle([transfer(alice, bob), transfer(bob, alice)]);
    const elapsed = Math.round(performance.now() - started);
    const ok = errors.length >= 1 && errors.every((error) => error instanceof LockTimeoutError) && elapsed >= 500;
    return { title, expected: 'no error until a timeout ends the wait (without one: a silent hang)', outcome: `${results.join(', ')} after ${elapsed} ms`, ok, report: undefined };
  } finally {
    configure({ checks: before });
  }
}

async function lockAllIsSafe(): Promise<DemoStep> {
  const { bufferA, bufferB } = seedLocks();
  const alice = new Mutex({ name: 'account:alice' });
  const bob = new Mutex({ name: 'account:bob' });
  const title = 'lockAll makes the same work safe: both transfers, and two buffers of one class, in any order';
  const both = async (locks: Mutex[]): Promise<string> => {
    const guard = await lockAll(locks, { timeout: 1_000 });
    try {
      await sleep(20);
      return 'done';
    } finally {
      guard.release();
    }
  };
  const { results, errors } = await settle([both([alice, bob]), both([bob, alice]), both([bufferA, bufferB]), both([bufferB, bufferA])]);
  return { title, expected: 'all four complete', outcome: results.join(', '), ok: errors.length === 0, report: undefined };
}

/** Runs the seed scenario step by step. Needs checked mode; turns it on for the run. */
export async function runDemo(): Promise<DemoStep[]> {
  const before = getConfig();
  configure({ checks: true, onPotentialDeadlock: 'throw', warnings: false });
  resetLockGraph();
  try {
    const steps: DemoStep[] = [];
    for (const step of [rankViolation, orderInversion, realDeadlock, sameDeadlockUnchecked, lockAllIsSafe, registryStep, secureStep]) steps.push(await step());
    return steps;
  } finally {
    configure({ checks: before.checks, onPotentialDeadlock: before.onPotentialDeadlock, warnings: before.warnings });
  }
}

export function formatDemo(steps: readonly DemoStep[]): string {
  const out: string[] = ['deadbolt demo: the memguard lock order (coffer 10 < buffers 20 < buffer 30), enforced', ''];
  steps.forEach((step, index) => {
    out.push(`${index + 1}. ${step.title}`);
    out.push(`   expected: ${step.expected}`);
    out.push(`   got:      ${step.outcome}   ${step.ok ? '[ok]' : '[UNEXPECTED]'}`);
    if (step.report !== undefined) out.push('', step.report.replace(/^/gm, '   | '));
    out.push('');
  });
  out.push('Learned lock order (Mermaid):', lockGraph().toMermaid(), '');
  const failed = steps.filter((step) => !step.ok).length;
  out.push(failed === 0 ? `All ${steps.length} steps behaved as expected.` : `${failed} of ${steps.length} steps did not behave as expected.`);
  return out.join('\n');
}
