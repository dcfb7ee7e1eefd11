const CODE = Symbol.for('deadbolt.error.code');

/** An acquisition, as data: what a report names. */
export interface LockRef {
  /** Acquisition id, unique in the process. */
  readonly id: number;
  /** The lock, e.g. `Mutex "coffer"`. */
  readonly lock: string;
  readonly className: string;
  readonly rank: number | undefined;
  readonly mode: 'exclusive' | 'shared';
  /** Where it was requested or acquired, when the stack was captured. */
  readonly stack: string | undefined;
}

/**
 * One step of a wait-for cycle: `waiter` is queued and cannot go on until `holder` does, either
 * because `holder` holds the lock (`via: 'holder'`) or is queued ahead of it (`via: 'queue'`).
 */
export interface CycleStep {
  readonly waiter: LockRef;
  readonly holder: LockRef;
  readonly via: 'holder' | 'queue';
}

/** A learned order edge, as data. */
export interface EdgeRef {
  readonly from: string;
  readonly to: string;
  readonly stack: string;
}

function brandCheck(value: unknown, code: string | null): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const brand = (value as Record<symbol, unknown>)[CODE];
  return typeof brand === 'string' && (code === null || brand === code);
}

/**
 * Base class of deadbolt's errors. Every error has a stable `code` and a `report` a person can
 * act on. `instanceof` works across copies of the package (ESM and CJS builds) through the code.
 *
 * @example
 * try { await work(); } catch (error) {
 *   if (error instanceof DeadboltError) log.error({ code: error.code }, error.report);
 * }
 */
export abstract class DeadboltError extends Error {
  abstract readonly code: string;
  /** Multi-line, lockdep-style: who holds what, acquired where, and what each waits for. */
  readonly report: string;

  protected constructor(code: string, summary: string, report: string) {
    super(`${summary}\n\n${report}`);
    this.report = report;
    Object.defineProperty(this, CODE, { value: code });
  }

  /**
   * The stable code of a subclass. `instanceof` tests it (any deadbolt error for the base class),
   * so that it works across copies of the package, where the classes differ but the codes agree.
   */
  static readonly CODE: string | undefined = undefined;

  static override [Symbol.hasInstance](this: { readonly CODE: string | undefined }, value: unknown): boolean {
    return brandCheck(value, this.CODE ?? null);
  }
}

/**
 * An actual deadlock: the request would wait on a cycle in the wait-for graph (a flow waiting
 * for a lock it holds is a cycle of one). The requesting flow is the victim; the other flows on
 * the cycle keep waiting and go on once the victim releases what it holds.
 *
 * @example
 * try { await transfer(a, b); } catch (error) {
 *   if (error instanceof DeadlockError) return retryLater(); // this flow was the victim
 *   throw error;
 * }
 */
export class DeadlockError extends DeadboltError {
  readonly code = 'ERR_DEADLOCK' as const;
  override readonly name = 'DeadlockError';

  constructor(
    summary: string,
    report: string,
    /** The cycle, starting with the rejected request. */
    readonly cycle: readonly CycleStep[],
  ) {
    super('ERR_DEADLOCK', summary, report);
  }

  static override readonly CODE = 'ERR_DEADLOCK';
}

export type LockOrderKind = 'rank' | 'same-class' | 'recursive' | 'order-cycle' | 'condition-wait';

/**
 * A potential deadlock: an order that could deadlock even though it did not this time. A rank
 * violation, two locks of one class nested outside `lockAll`, a recursive acquisition, a new
 * order edge that closes a cycle in the learned graph, or a condition wait while holding a lock.
 * It is thrown before any waiting: it is a bug in the program's lock order, not a runtime state.
 *
 * @example
 * // kind: 'rank' | 'same-class' | 'recursive' | 'order-cycle' | 'condition-wait'
 * if (error instanceof LockOrderError) console.error(error.kind, error.report);
 */
export class LockOrderError extends DeadboltError {
  readonly code = 'ERR_LOCK_ORDER' as const;
  override readonly name = 'LockOrderError';

  constructor(
    summary: string,
    report: string,
    readonly kind: LockOrderKind,
    /** The held acquisition the request conflicts with. */
    readonly held: LockRef,
    /** The request that was refused. */
    readonly requested: LockRef,
    /** For `order-cycle`: the learned edges that the new edge closes into a cycle. */
    readonly cycle: readonly EdgeRef[] = [],
  ) {
    super('ERR_LOCK_ORDER', summary, report);
  }

  static override readonly CODE = 'ERR_LOCK_ORDER';
}

/**
 * A wait that ran past its timeout. The waiter was removed from the queue; the report names the
 * holders (in checked mode) and how many others wait.
 *
 * @example
 * await mutex.lock({ timeout: 1_000 }).catch((error) => {
 *   if (error instanceof LockTimeoutError) metrics.increment('lock.timeout');
 *   throw error;
 * });
 */
export class LockTimeoutError extends DeadboltError {
  readonly code = 'ERR_LOCK_TIMEOUT' as const;
  override readonly name = 'LockTimeoutError';

  constructor(
    summary: string,
    report: string,
    readonly timeout: number,
    /** The lock that was not granted in time. */
    readonly lock: string,
  ) {
    super('ERR_LOCK_TIMEOUT', summary, report);
  }

  static override readonly CODE = 'ERR_LOCK_TIMEOUT';
}
