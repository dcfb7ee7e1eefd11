/*
 * The words of each rule: why it matters and what to change. Kept apart from the detection code
 * so that reporters, the ESLint plugin and the docs read the same text.
 */
import type { RuleId, Severity } from './types.js';

export const DEFAULT_SEVERITY: Readonly<Record<RuleId, Severity>> = {
  'lock-order-inversion': 'error',
  'reentrant-acquire': 'error',
  'unreleased-lock': 'error',
  'unawaited-lock-promise': 'error',
  'check-then-acquire': 'warning',
  'multi-lock-unordered': 'warning',
  'callback-under-lock': 'warning',
  'blocking-under-lock': 'warning',
};

export const EXPLANATION: Readonly<Record<RuleId, string>> = {
  'lock-order-inversion':
    'Two paths take the same two locks in opposite orders. When both run at once, each can get its first lock and then wait forever for the other: a deadlock that only shows under load. A declared rank order is broken the same way when a lock of higher (or equal) rank is held while a lower one is requested.',
  'reentrant-acquire':
    'The lock is requested again on a path that already holds it. None of these locks is reentrant, so the second request waits for a release that can only happen after it returns: the flow deadlocks on itself, every time this path runs.',
  'unreleased-lock':
    'Some path leaves the function with the lock still held: an early return or throw, an exception from a call made before the release, or a release that only happens inside a callback that may never run. Every later request then waits forever.',
  'unawaited-lock-promise':
    'A promise from a lock is not awaited where the code assumes it has settled. A `finally` after `return lock.run(fn)` runs before `fn` does; an acquire result used without `await` is a Promise, not a release function, so the lock is never released.',
  'check-then-acquire':
    'The lock state is checked and then acquired as two steps. Another task can take the lock in between (the acquire may wait, or the check may be stale by the time it is acted on), so the check protects nothing.',
  'multi-lock-unordered':
    'Several locks are taken in an order chosen by the caller. Two callers that pass the same keys in different orders each take one lock and wait for the other: a lock order inversion waiting for the right input.',
  'callback-under-lock':
    'Code the lock owner does not control (listeners, user callbacks, emitted events) runs while the lock is held. If it calls back into this object, it requests the lock again and deadlocks; if it is slow, every waiter waits for it.',
  'blocking-under-lock':
    'Synchronous heavy work (a *Sync call into fs, crypto, zlib or child_process, or JSON over an unbounded value) blocks the event loop while the lock is held. Every other waiter, and the whole process, stalls for its full duration.',
};

export const FIX: Readonly<Record<RuleId, string>> = {
  'lock-order-inversion': 'Take the locks in one global order everywhere (give them ranks, or take both with lockAll), or avoid holding one while requesting the other.',
  'reentrant-acquire': 'Split the method into a public one that takes the lock and a private one that assumes it is held, and call the private one while holding the lock.',
  'unreleased-lock': 'Release in a `finally` right after acquiring (`const release = await m.acquire(); try { ... } finally { release(); }`), or use `using` / `run(fn)` so the release cannot be skipped.',
  'unawaited-lock-promise': 'Await the lock promise (`return await lock.runExclusive(fn)`), and await acquire() before using its result.',
  'check-then-acquire': 'Use a try-lock (`tryAcquire` / `tryLock`) that checks and takes atomically, or set the flag in the same synchronous step as the check, before any await.',
  'multi-lock-unordered': 'Sort the keys before locking (`[...keys].sort()`), or take them all at once with a primitive that orders them (deadbolt `lockAll`).',
  'callback-under-lock': 'Copy what the callbacks need, release the lock, then call them (collect events under the lock, emit after it).',
  'blocking-under-lock': 'Use the async API (fs.promises, crypto async variants, streaming JSON), or move the heavy work outside the locked region or to a worker.',
};
