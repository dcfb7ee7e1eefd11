import { AcqState, pushContext, type FlowContext } from '../discipline/acquisition.js';
import { cancel, checkGrantable, request, timeoutError } from '../discipline/engine.js';
import { LockTimeoutError } from '../discipline/errors.js';
import { currentContext, tagNextPromise } from '../discipline/flow.js';
import { state } from '../discipline/state.js';
import { FifoLock } from './fifo-lock.js';
import { CheckedGuard, runHolding, type Guard } from './guard.js';
import type { LockSpec } from './lock-spec.js';
import { parseAcquireOptions, type AcquireOptions } from './options.js';
import { RwLock } from './rwlock.js';

/** What lockAll takes: a lock (a Mutex, an RwLock in write mode, one Semaphore permit) or a spec. */
export type Lockable = FifoLock | LockSpec;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Caller = Function;

/** Holds several locks; releasing it releases them all, in reverse order. */
class MultiGuard implements Guard {
  #guards: Guard[] | null;

  constructor(guards: Guard[]) {
    this.#guards = guards;
  }

  get held(): boolean {
    return this.#guards !== null;
  }

  release(): void {
    const guards = this.#guards;
    if (guards === null) return;
    this.#guards = null;
    for (let i = guards.length - 1; i >= 0; i--) (guards[i] as Guard).release();
  }

  [Symbol.dispose](): void {
    this.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

function toSpec(item: Lockable, index: number): LockSpec {
  if (item instanceof RwLock) return item.writer;
  if (item instanceof FifoLock) return { lock: item, mode: item.capacity === 1 ? 'exclusive' : 'shared', weight: 1 };
  if (item !== null && typeof item === 'object' && (item as LockSpec).lock instanceof FifoLock) return item;
  throw new TypeError(`lockAll(): item ${index} is not a deadbolt lock (Mutex, RwLock, Semaphore, rw.reader, rw.writer, semaphore.weighted(n))`);
}

/** Rank first, then a stable per-instance order: every caller takes a given set in one order. */
function lockOrder(a: LockSpec, b: LockSpec): number {
  const rankA = a.lock.lockClass.rank ?? Infinity;
  const rankB = b.lock.lockClass.rank ?? Infinity;
  return rankA !== rankB ? rankA - rankB : a.lock.instanceId - b.lock.instanceId;
}

function normalize(locks: Iterable<Lockable>): LockSpec[] {
  if (locks === null || typeof (locks as Iterable<Lockable>)[Symbol.iterator] !== 'function') throw new TypeError('lockAll() takes an array of locks');
  const specs = [...locks].map(toSpec);
  if (specs.length === 0) throw new TypeError('lockAll() needs at least one lock');
  const seen = new Set<FifoLock>();
  for (const spec of specs) {
    if (seen.has(spec.lock)) throw new TypeError(`lockAll(): ${spec.lock.label} appears twice`);
    seen.add(spec.lock);
  }
  return specs.sort(lockOrder);
}

/**
 * Takes several locks in one consistent order (rank, then a stable per-instance order), so two
 * callers can never take them in opposite orders. It is the sanctioned way to hold two locks of
 * one class. Locks are taken one by one; if any wait fails (timeout, abort, deadlock), the ones
 * already taken are released and the promise rejects. The timeout bounds the whole call.
 *
 * Checked mode: each lock is checked against what the flow already holds before any waiting, and
 * the flow that awaits the result holds all of them.
 *
 * @example
 * await using both = await lockAll([bufferA, bufferB], { timeout: 1_000 });
 */
export function lockAll(locks: Iterable<Lockable>, options?: AcquireOptions): Promise<Guard> {
  return acquireAll(locks, options, lockAll);
}

/**
 * Runs `fn` holding every lock in `locks` (see `lockAll`) and returns its result; the locks are
 * released however `fn` ends.
 *
 * @example
 * await runAll([coffer, registry.writer], () => rekeyAll(), { timeout: 2_000 });
 */
export function runAll<T>(locks: Iterable<Lockable>, fn: () => T | PromiseLike<T>, options?: AcquireOptions): Promise<T> {
  return runHolding(acquireAll(locks, options, runAll), fn);
}

function acquireAll(locks: Iterable<Lockable>, options: AcquireOptions | undefined, caller: Caller): Promise<Guard> {
  try {
    const specs = normalize(locks);
    const { timeout, signal } = parseAcquireOptions(options, `${caller.name}()`);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const deadline = performance.now() + timeout;
    const acquired = state.config.checks ? acquireInOrderChecked(specs, deadline, signal, caller) : acquireInOrder(specs, deadline, signal, caller);
    return timeout === Infinity ? acquired : acquired.catch((error: unknown) => Promise.reject(wholeCallTimeout(error, specs, timeout)));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A timeout on one lock of the set is reported against the timeout of the whole call. */
function wholeCallTimeout(error: unknown, specs: readonly LockSpec[], timeout: number): unknown {
  if (!(error instanceof LockTimeoutError)) return error;
  const stuck = specs.find((spec) => spec.lock.label === error.lock);
  const label = `${error.lock} (lock ${stuck === undefined ? '?' : specs.indexOf(stuck) + 1} of ${specs.length} in lockAll)`;
  return timeoutError(null, label, timeout, stuck?.lock.holderList() ?? [], stuck?.lock.waiting ?? 0, false);
}

function remaining(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, Math.ceil(deadline - performance.now()));
}

async function acquireInOrder(specs: LockSpec[], deadline: number, signal: AbortSignal | undefined, caller: Caller): Promise<Guard> {
  const guards: Guard[] = [];
  try {
    for (const spec of specs) guards.push(await spec.lock.acquireUnits(spec.mode, spec.weight, { timeout: remaining(deadline), signal }, caller));
  } catch (error) {
    for (let i = guards.length - 1; i >= 0; i--) (guards[i] as Guard).release();
    throw error;
  }
  return new MultiGuard(guards);
}

function acquireInOrderChecked(specs: LockSpec[], deadline: number, signal: AbortSignal | undefined, caller: Caller): Promise<Guard> {
  const ctx = currentContext();
  const bundle = {};
  // Open every request up front, so order rules are checked before any waiting.
  const records = specs.map((spec) => {
    const acq = new CheckedGuard(spec.lock, spec.mode, spec.weight, bundle);
    request(acq, ctx, caller);
    return acq;
  });
  for (const acq of records) {
    if (acq.violation !== null) {
      for (const other of records) if (other !== acq) cancel(other);
      checkGrantable(acq);
    }
  }
  let settle!: { resolve: (guard: Guard) => void; reject: (error: unknown) => void };
  tagNextPromise(records);
  const result = new Promise<Guard>((resolve, reject) => {
    settle = { resolve, reject };
  });
  void (async () => {
    const guards: Guard[] = [];
    let chain: FlowContext | null | undefined = ctx;
    try {
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i] as LockSpec;
        const acq = records[i] as CheckedGuard;
        // After the first await lockAll is off the stack: capture from here (library frames are dropped).
        guards.push(await spec.lock.acquireRecord(acq, chain, remaining(deadline), signal, i === 0 ? caller : undefined, false));
        chain = pushContext(chain, acq);
      }
      settle.resolve(new MultiGuard(guards));
    } catch (error) {
      for (let i = guards.length - 1; i >= 0; i--) (guards[i] as Guard).release();
      for (const acq of records) if (acq.state === AcqState.Waiting) cancel(acq);
      settle.reject(error);
    }
  })();
  return result;
}
