import { resolve as resolvePath } from 'node:path';
import { heldIn, type AcqMode, type FlowContext } from '../discipline/acquisition.js';
import { request } from '../discipline/engine.js';
import { currentContext } from '../discipline/flow.js';
import { validateLockOptions, type LockOptions } from '../discipline/lock-class.js';
import { state } from '../discipline/state.js';
import { FifoLock } from '../primitives/fifo-lock.js';
import { CheckedGuard, runHolding, type Guard, type HeldGuard } from '../primitives/guard.js';
import { parseAcquireOptions, type AcquireOptions } from '../primitives/options.js';
import { watchForCycle } from './cycle-watch.js';
import { fsState } from './fs-state.js';
import { OsLock } from './os-lock.js';
import type { PublishedHold } from './wait-registry.js';

export type FileLockMode = 'exclusive' | 'shared';

/** Options of `FileLock.lock` and `FileLock.run`. */
export interface FileLockAcquireOptions extends AcquireOptions {
  /** `'exclusive'` (default) or `'shared'`. */
  readonly mode?: FileLockMode;
  /**
   * Milliseconds to wait, in this process's queue and for other processes together, before
   * rejecting with `LockTimeoutError`. Default 30 000 (the registry strategy's), not
   * `configure({ defaultTimeout })`: a file lock always waits on something outside the process.
   */
  readonly timeout?: number;
}

export const DEFAULT_FILE_LOCK_TIMEOUT = 30_000;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Caller = Function;

/**
 * @internal One lock file, shared by every FileLock on that path in this process: the in-process
 * FIFO (the discipline's view) in front of the process's single OS lock.
 */
export class FileLockCore extends FifoLock {
  readonly os: OsLock;
  /** Name and path never change: the label is made once, not on every acquisition. */
  readonly #label: string;

  constructor(
    readonly path: string,
    options: LockOptions & { readonly name: string },
  ) {
    super('FileLock', options, Infinity);
    this.#label = options.name === path ? `FileLock "${path}"` : `FileLock "${options.name}" (${path})`;
    this.os = new OsLock(path, this.#label, options.name);
  }

  override get label(): string {
    return this.#label;
  }

  acquire(mode: AcqMode, options: FileLockAcquireOptions | undefined, caller: Caller): Promise<Guard> {
    try {
      const { timeout, signal } = parseAcquireOptions(options, this, caller, DEFAULT_FILE_LOCK_TIMEOUT);
      if (signal?.aborted) return Promise.reject(signal.reason);
      const deadline = performance.now() + timeout;
      if (!state.config.checks) {
        // Free here and in every other process: no promise chain, no timer.
        if (this.queue.size === 0 && this.fits(mode, 1)) {
          const guard = this.tryAcquireUnits(mode, 1, caller) as HeldGuard;
          // Free here but held by another process: keep the local hold and wait for the OS lock.
          return this.#tryEnterOs(guard, mode) ? Promise.resolve(guard) : this.#enterOs(guard, mode, deadline, timeout, signal, []);
        }
        return this.acquireUnits(mode, 1, { timeout, signal }, caller).then((guard) => this.#enterOs(guard as HeldGuard, mode, deadline, timeout, signal, []));
      }
      const ctx = currentContext();
      const acq = new CheckedGuard(this, mode, 1, null);
      request(acq, ctx, caller);
      // Free here and in every other process: acquireRecord grants at once, and tags the promise.
      if (acq.violation === null && this.queue.size === 0 && this.fits(mode, 1) && this.#tryEnterOs(acq, mode)) {
        return this.acquireRecord(acq, ctx, timeout, signal, caller, true);
      }
      // Queued behind another flow of this process, a flow holding file locks is as blocked as
      // one waiting for the OS lock: its wait must be visible to other processes.
      const holds = fileHolds(ctx);
      const watch = holds.length === 0 ? null : (onDeadlock: (error: unknown) => void) => watchForCycle(this.path, mode, this.label, holds, onDeadlock);
      return this.acquireTwoPhase(acq, ctx, timeout, signal, caller, watch, (guard) => this.#enterOs(guard, mode, deadline, timeout, signal, holds));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** False on contention, and on I/O errors too: the waiting path meets them again and reports them. */
  #tryEnterOs(key: object, mode: AcqMode): boolean {
    try {
      return this.os.tryEnter(key, mode);
    } catch {
      return false;
    }
  }

  async #enterOs(guard: HeldGuard, mode: AcqMode, deadline: number, timeout: number, signal: AbortSignal | undefined, holds: readonly PublishedHold[]): Promise<Guard> {
    try {
      await this.os.enter(guard, mode, deadline, timeout, signal, holds);
    } catch (error) {
      guard.release();
      throw error;
    }
    return guard;
  }

  tryAcquire(mode: AcqMode, caller: Caller): Guard | null {
    const guard = this.tryAcquireUnits(mode, 1, caller) as HeldGuard | null;
    if (guard === null) return null;
    let entered = false;
    try {
      entered = this.os.tryEnter(guard, mode);
    } finally {
      if (!entered) guard.release();
    }
    return entered ? guard : null;
  }

  /** @internal The OS reference goes first, so a holder granted next finds the OS lock free. */
  override releaseGuard(guard: HeldGuard): void {
    this.os.leave(guard);
    super.releaseGuard(guard);
  }
}

/** The file locks a flow holds, as published with its waits for cross-process detection. */
function fileHolds(ctx: FlowContext | null | undefined): PublishedHold[] {
  const holds: PublishedHold[] = [];
  for (const acq of heldIn(ctx)) if (isFileLockCore(acq.lock)) holds.push({ path: acq.lock.path, mode: acq.mode });
  return holds;
}

/** The mode asked for; the error message is only built when there is one. */
function parseMode(mode: unknown, lock: FileLock, method: string): AcqMode {
  if (mode === undefined || mode === 'exclusive') return 'exclusive';
  if (mode === 'shared') return 'shared';
  throw new TypeError(`${lock.label}.${method}(): mode must be 'exclusive' or 'shared', got ${JSON.stringify(mode)}`);
}

const cores = fsState.cores as Map<string, WeakRef<FileLockCore>>;
const forget = new FinalizationRegistry<string>((path) => {
  if (cores.get(path)?.deref() === undefined) cores.delete(path);
});

/** Another copy of this module (the CJS build next to the ESM one) has its own class: test the shape. */
function isFileLockCore(lock: object): lock is FileLockCore {
  return lock instanceof FileLockCore || (typeof (lock as Partial<FileLockCore>).path === 'string' && (lock as Partial<FileLockCore>).os !== undefined);
}

function coreFor(path: string, options: LockOptions): FileLockCore {
  const existing = cores.get(path)?.deref();
  if (existing === undefined) {
    const core = new FileLockCore(path, { name: options.name ?? path, rank: options.rank });
    cores.set(path, new WeakRef(core));
    forget.register(core, path);
    return core;
  }
  const clash = (options.name !== undefined && options.name !== existing.name) || (options.rank !== undefined && options.rank !== existing.rank);
  if (clash) {
    throw new TypeError(
      `FileLock: ${path} is already a lock in this process as ${existing.label}${existing.rank === undefined ? '' : ` (rank ${existing.rank})`}; ` +
        'one lock file is one lock, so every FileLock on it must agree on name and rank (or leave them out)',
    );
  }
  return existing;
}

/**
 * A lock across processes on one host, on a real OS lock of a lock file (fs-native-extensions:
 * OFD locks on Linux, flock on macOS, LockFileEx on Windows), in exclusive or shared mode.
 *
 * - The lock file is created if missing and never unlinked (unlinking lets two processes hold
 *   "the same" lock). Lock a file of its own, never the data file you replace by rename.
 * - Within a process, every FileLock on one path is one lock with a FIFO queue (writers are not
 *   overtaken by later readers); across processes there is no fairness: waiters poll a
 *   non-blocking OS lock every few ms. The kernel frees a dead holder's lock at once, so a
 *   waiter gets it within ~10 ms of a holder's SIGKILL; no stale timeout is involved.
 * - Timeout (default 30 s) and abort cover both waits, and leave nothing queued.
 * - The holder records pid, host, start time and name beside the lock (`<path>.holders/`), once
 *   a hold lasts a few ms; see `inspectLocks` and `cleanStaleLocks`.
 * - Checked mode: a FileLock is a lock of the discipline (name and rank, the learned order, the
 *   in-process wait-for graph). A flow that waits for a file lock while holding others publishes
 *   the wait, and a wait that closes a cycle across processes rejects with `DeadlockError` within
 *   ~50 ms in the process whose wait began last. Locks are named by path unless given a name.
 *
 * @example
 * const lock = new FileLock('/var/lib/app/registry.json.lock', { rank: 10 });
 * await using guard = await lock.lock({ mode: 'exclusive', timeout: 5_000 });
 * // ... read, modify and atomically write the registry
 */
export class FileLock {
  readonly #core: FileLockCore;

  constructor(path: string, options?: LockOptions) {
    if (typeof path !== 'string' || path === '') throw new TypeError(`FileLock: path must be a non-empty string, got ${JSON.stringify(path)}`);
    const validated = validateLockOptions('FileLock', options);
    this.#core = coreFor(resolvePath(path), validated);
  }

  /** Absolute path of the lock file. */
  get path(): string {
    return this.#core.path;
  }

  /** Class name: the given name, else the path. */
  get name(): string {
    return this.#core.name as string;
  }

  get rank(): number | undefined {
    return this.#core.rank;
  }

  /** For reports, e.g. `FileLock "registry" (/var/lib/app/registry.json.lock)`. */
  get label(): string {
    return this.#core.label;
  }

  /** Waits for the lock in `mode` (default exclusive) and resolves to a guard. */
  lock(options?: FileLockAcquireOptions): Promise<Guard> {
    try {
      return this.#core.acquire(parseMode(options?.mode, this, 'lock'), options, FileLock.prototype.lock);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Takes the lock only if no waiting is needed, in this process or in others; never queues.
   * Exempt from ordering rules, like every try-lock. Throws on I/O errors (such as a missing
   * directory), never on contention.
   */
  tryLock(mode: FileLockMode = 'exclusive'): Guard | null {
    return this.#core.tryAcquire(parseMode(mode, this, 'tryLock'), FileLock.prototype.tryLock);
  }

  /** Runs `fn` holding the lock and returns its result; the lock is released however `fn` ends. */
  run<T>(fn: () => T | PromiseLike<T>, options?: FileLockAcquireOptions): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(new TypeError(`${this.label}.run(): fn must be a function`));
    return runHolding(this.lock(options), fn);
  }

  /** How this process holds the OS lock right now: `'exclusive'`, `'shared'`, or null. */
  get heldMode(): FileLockMode | null {
    return this.#core.os.heldMode;
  }

  /** @internal Checked mode: whether the running flow holds this lock (false in fast mode). */
  heldByCurrentFlow(): boolean {
    return state.config.checks && heldIn(currentContext()).some((acq) => acq.lock === this.#core);
  }

  /** Number of flows of this process waiting for the lock (in the in-process queue). */
  get waiting(): number {
    return this.#core.waiting;
  }
}
