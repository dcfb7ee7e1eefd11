/*
 * What each rule is about, in the words the reporters and the ESLint plugin show: a one-line
 * summary, a paragraph, and the default severity. The per-finding explanation and fix come from
 * the analysis core (Finding.explanation / Finding.fix); this is the rule-level text that SARIF's
 * `tool.driver.rules` and ESLint's `meta.docs` need even when a run has no finding of the rule.
 */
import { RULE_IDS, type RuleId, type Severity } from '../types.js';

/** The documentation of one rule. */
export interface RuleDoc {
  readonly id: RuleId;
  /** One line, no trailing period: what the rule reports. */
  readonly summary: string;
  /** A paragraph: why it matters and what to do about it. */
  readonly description: string;
  /** The severity a finding gets unless the config overrides it. */
  readonly defaultSeverity: Severity;
}

const DOCS: Readonly<Record<RuleId, Omit<RuleDoc, 'id'>>> = {
  'lock-order-inversion': {
    summary: 'Two locks taken in opposite orders on two paths',
    description:
      'One path acquires lock A and then lock B while another acquires B and then A (directly or through calls between functions and methods). When both paths run at once, each holds the lock the other waits for and neither proceeds: a deadlock. Pick one order for every pair of locks (declare ranks) and take them in that order everywhere, or take them together with lockAll.',
    defaultSeverity: 'error',
  },
  'reentrant-acquire': {
    summary: 'A lock requested while it is certainly held on the same path',
    description:
      "The npm locks (and deadbolt's) are not reentrant: a path that already holds a lock and asks for it again, directly or through a call, waits for itself forever. Split the code into a locked public method and an unlocked internal one, and call the internal one while holding the lock.",
    defaultSeverity: 'error',
  },
  'unreleased-lock': {
    summary: 'An acquisition without a guaranteed release',
    description:
      'The lock is released only on some paths: an early return or throw between acquire and release, a call that can throw before the try, or a release that happens only inside a callback. Every later acquirer then waits forever. Release in a finally block right after acquiring, use `using`/`await using` on the guard, or use the callback form (runExclusive).',
    defaultSeverity: 'error',
  },
  'callback-under-lock': {
    summary: 'User-supplied code runs while a lock is held',
    description:
      'Callbacks, event emits and subscriber notifications run code the lock holder does not control while the lock is held. That code can take other locks (an order inversion the author cannot see), call back into the locked object (reentrancy), or simply be slow. Collect what to notify under the lock and call it after releasing.',
    defaultSeverity: 'warning',
  },
  'blocking-under-lock': {
    summary: 'Blocking synchronous work while a lock is held',
    description:
      'Synchronous fs, crypto, zlib and child_process calls, or a JSON.stringify/parse of unbounded input, block the event loop while every waiter of the lock (and every other task of the process) stands still. Use the asynchronous APIs, or do the heavy work before acquiring and keep only the state change under the lock.',
    defaultSeverity: 'warning',
  },
  'unawaited-lock-promise': {
    summary: 'A locked operation returned without await inside try/finally',
    description:
      '`return lock.runExclusive(fn)` inside try/finally (or a using block) returns the promise before the locked work ran, so the finally (or the dispose) runs early, while the work is still pending or even before it started. Write `return await`.',
    defaultSeverity: 'error',
  },
  'check-then-acquire': {
    summary: 'A lock state is checked and then acquired without atomicity',
    description:
      'Code like `if (!m.isLocked()) await m.acquire()` races: another task can take the lock between the check and the acquisition, so the check decides nothing. Use tryAcquire/tryLock, which checks and takes in one step, or just acquire.',
    defaultSeverity: 'warning',
  },
  'multi-lock-unordered': {
    summary: 'Several locks acquired together in an order the caller chooses',
    description:
      'Acquiring one lock per key with `Promise.all(keys.map(k => locks[k].acquire()))` takes them in whatever order the caller passed the keys (and all at once). Two callers with the same keys in different orders deadlock. Sort the keys first and acquire one after another, or use lockAll, which orders them for you.',
    defaultSeverity: 'warning',
  },
};

/** The documentation of every rule, in RULE_IDS order. */
export const RULE_DOCS: readonly RuleDoc[] = RULE_IDS.map((id) => ({ id, ...DOCS[id] }));

/**
 * The documentation of one rule.
 *
 * @example
 * ruleDoc('reentrant-acquire').defaultSeverity; // 'error'
 */
export function ruleDoc(id: RuleId): RuleDoc {
  return { id, ...DOCS[id] };
}
