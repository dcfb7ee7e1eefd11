import type { Arena } from './arena.js';

/**
 * This thread's deadbolt/threads state, kept on globalThis under a registered symbol: a program
 * that loads both the ESM and the CJS build (or two copies through different paths) must still
 * have one arena slot and one lock object per shared lock in each thread.
 */
export interface ThreadsState {
  arena: Arena | null;
  /** Each shared lock's core in this thread, by lock index (weak: an unused lock may be collected). */
  readonly cores: Map<number, WeakRef<object>>;
}

const KEY = Symbol.for('deadbolt.threads.state.v1');
const holder = globalThis as typeof globalThis & { [KEY]?: ThreadsState };

export const threadsState: ThreadsState = (holder[KEY] ??= { arena: null, cores: new Map() });
