import { configure, detached, resetLockGraph } from '../../src/index.js';

export { rejectionOf, sleep, thrownBy, uniqueName } from './plain.js';

/** Lets every queued microtask and one macrotask run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Checked mode with throwing order checks and no process warnings; a clean learned graph. */
export function checkedMode(): void {
  configure({ checks: true, onPotentialDeadlock: 'throw', warnings: false, holdWarnMs: 10_000, loopBlockWarnMs: 200, defaultTimeout: Infinity, stacks: 'contended' });
  resetLockGraph();
}

export function fastMode(): void {
  configure({ checks: false, warnings: false, defaultTimeout: Infinity });
}

/**
 * Runs `fn` as a separate flow that holds nothing. In checked mode a test body is one flow, and a
 * flow that requests a lock it holds is a self-deadlock; waiters that stand for other callers
 * must come from other flows.
 */
export function inOtherFlow<T>(fn: () => T): T {
  return detached(fn);
}

/** mulberry32: a small seeded PRNG (floats in [0, 1)), so a failing run can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
