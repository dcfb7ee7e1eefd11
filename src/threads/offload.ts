import { basename, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { getConfig } from '../discipline/engine.js';
import { captureStack } from '../discipline/stack.js';
import { state } from '../discipline/state.js';
import { checkSignal, checkTimeout } from '../primitives/options.js';
import { OffloadClosedError, OffloadTimeoutError } from './offload-errors.js';
import { workerContext } from './offload-join.js';
import { OffloadPromise, reportOffloadUnderLock } from './offload-report.js';
import './worker-exits.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type Caller = Function;

type PiscinaRunOptions = NonNullable<Parameters<Piscina['run']>[1]>;

/** What can be transferred (moved, not copied) to the task: ArrayBuffers, MessagePorts, ... */
export type OffloadTransferList = NonNullable<PiscinaRunOptions['transferList']>;

export interface OffloadPoolOptions {
  /**
   * The task module: an absolute path or a `file:` URL (e.g. `new URL('./kdf.mjs', import.meta.url)`).
   * Its default export (or the export named by `name`) is called with each input, in a worker;
   * what it returns (or resolves to) is the result. As piscina's `filename`.
   */
  readonly filename: string | URL;
  /** The export to call (default `'default'`). As piscina's `name`. */
  readonly name?: string;
  /** Workers kept even when idle (piscina's default: half the CPUs, at least 1). */
  readonly minThreads?: number;
  /** Workers at most (piscina's default: 1.5 x the CPUs). */
  readonly maxThreads?: number;
  /** ms an idle worker beyond `minThreads` lives (piscina's default: 0). */
  readonly idleTimeout?: number;
}

export interface OffloadRunOptions {
  /** Aborting rejects with `signal.reason` at once and cancels the task (see `OffloadPool.run`). */
  readonly signal?: AbortSignal;
  /** ms until the run rejects with `OffloadTimeoutError` and the task is cancelled (default Infinity). */
  readonly timeout?: number;
  /** Moved to the worker instead of copied (they become unusable here). */
  readonly transferList?: OffloadTransferList;
  /** The export to call for this run, instead of the pool's. */
  readonly name?: string;
}

const RUN_OPTION_KEYS = new Set(['signal', 'timeout', 'transferList', 'name']);

interface ParsedRun {
  readonly signal: AbortSignal | undefined;
  readonly timeout: number;
  readonly transferList: OffloadTransferList | undefined;
  readonly name: string | undefined;
}

function parseRunOptions(options: OffloadRunOptions | undefined, where: string): ParsedRun {
  if (options === undefined) return { signal: undefined, timeout: Infinity, transferList: undefined, name: undefined };
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object, got ${String(options)}`);
  for (const key of Object.keys(options)) if (!RUN_OPTION_KEYS.has(key)) throw new TypeError(`${where}: unknown option ${JSON.stringify(key)}`);
  const { signal, timeout, transferList, name } = options;
  checkSignal(signal, () => where);
  if (timeout !== undefined) checkTimeout(timeout, () => where, false);
  if (transferList !== undefined && !Array.isArray(transferList)) throw new TypeError(`${where}: transferList must be an array`);
  if (name !== undefined) checkExportName(name, where);
  return { signal, timeout: timeout ?? Infinity, transferList, name };
}

function checkExportName(name: unknown, where: string): void {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${where}: name must be the name of an export of the task module, got ${JSON.stringify(name)}`);
}

/** The task module as an absolute path (piscina resolves relative paths against its own files). */
function taskPath(filename: unknown, where: string): string {
  if (filename instanceof URL || (typeof filename === 'string' && filename.startsWith('file:'))) return fileURLToPath(filename);
  if (typeof filename === 'string' && isAbsolute(filename)) return filename;
  throw new TypeError(`${where}: filename must be an absolute path or a file: URL (e.g. new URL('./task.mjs', import.meta.url)), got ${JSON.stringify(String(filename))}`);
}

/** For reports and errors: `"kdf.mjs"`, or `"seal.mjs#open"` for a named export. */
function taskLabel(path: string, name: string): string {
  return `"${basename(path)}${name === 'default' ? '' : `#${name}`}"`;
}

/**
 * A pool of worker threads for heavy synchronous work (key derivation, large seals), on
 * piscina 5. Each `run(input)` calls the task module's export in a worker and resolves with what
 * it returns; the event loop of the calling thread stays free meanwhile.
 *
 * - Workers join this thread's deadbolt/threads arena and configuration: a task that imports
 *   deadbolt/threads and calls `SharedMutex.from(handle)` on a handle passed in its input shares
 *   the lock, its rank and the cross-thread wait-for table with this thread (no joinThreads()
 *   needed; `workerData.deadbolt` is the context, for workers' own `new SharedMutex()`).
 * - Timeout and abort reject the run (`OffloadTimeoutError`, or `signal.reason`) and cancel the
 *   task: a queued task is dropped, a running one has its worker terminated and replaced. A
 *   shared lock the terminated task held passes to its next acquirer with `ownerDied` set.
 * - Checked mode: calling or awaiting `run()` while the flow holds locks is reported on
 *   `channels.offloadUnderLock` (and printed once as a `DEADBOLT_OFFLOAD_UNDER_LOCK` warning):
 *   the locks stay held for the whole task. Fast mode checks nothing.
 * - Idle workers do not keep the process alive. `close()` lets queued work finish;
 *   `destroy()` cancels it.
 *
 * @example
 * await using pool = new OffloadPool<{ password: string }, Buffer>({ filename: new URL('./kdf.mjs', import.meta.url) });
 * const key = await pool.run({ password }, { timeout: 5_000 });
 * // kdf.mjs: export default ({ password }) => crypto.scryptSync(password, salt, 32);
 */
export class OffloadPool<Input = unknown, Output = unknown> implements AsyncDisposable {
  readonly #piscina: Piscina<Input, Output>;
  readonly #path: string;
  readonly #name: string;
  #closed = false;

  constructor(options: OffloadPoolOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError(`new OffloadPool(options): options must be an object with a filename, got ${String(options)}`);
    const { filename, name, minThreads, maxThreads, idleTimeout } = options;
    this.#path = taskPath(filename, 'new OffloadPool()');
    if (name !== undefined) checkExportName(name, 'new OffloadPool()');
    this.#name = name ?? 'default';
    const passed = Object.fromEntries(Object.entries({ minThreads, maxThreads, idleTimeout }).filter(([, value]) => value !== undefined));
    this.#piscina = new Piscina<Input, Output>({ ...passed, filename: this.#path, name: this.#name, workerData: workerContext(getConfig()) });
  }

  /** The task, for reports: `"kdf.mjs"`, or `"seal.mjs#open"` for a named export. */
  get task(): string {
    return taskLabel(this.#path, this.#name);
  }

  /** Worker threads running now. */
  get threads(): number {
    return this.#piscina.threads.length;
  }

  /** Runs queued behind the busy workers. */
  get queued(): number {
    return this.#piscina.queueSize;
  }

  /**
   * Runs the task with `input` (structured-cloned, or moved with `transferList`) in a worker, and
   * resolves with its result. An error the task throws rejects the run with that error (as
   * structured clone carries it: name, message, stack).
   *
   * - `timeout` (ms): rejects with `OffloadTimeoutError` and cancels the task.
   * - `signal`: aborting rejects with `signal.reason` and cancels the task. Cancelling a running
   *   task terminates its worker; the pool replaces it and stays usable.
   * - Checked mode reports holding locks while calling or awaiting this (see the class).
   *
   * @example
   * const sealed = await pool.run({ key, data }, { transferList: [data.buffer], signal: request.signal });
   */
  run(input: Input, options?: OffloadRunOptions): Promise<Output> {
    return this.runFor(input, options, OffloadPool.prototype.run);
  }

  /** @internal `run`, with the public function the user called (for the report's stack). */
  runFor(input: Input, options: OffloadRunOptions | undefined, caller: Caller): Promise<Output> {
    let parsed: ParsedRun;
    try {
      parsed = parseRunOptions(options, `${this.task} run()`);
    } catch (error) {
      return Promise.reject(error);
    }
    const name = parsed.name ?? this.#name;
    const task = taskLabel(this.#path, name);
    const checked = state.config.checks;
    const site = checked ? captureStack(caller) : null;
    if (this.#closed) return Promise.reject(new OffloadClosedError(task));
    const { signal, timeout, transferList } = parsed;
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Only work that will run is reported: a closed pool or an aborted signal runs nothing.
    const reported = site !== null && reportOffloadUnderLock(task, 'called', site);
    const executor = (resolve: (value: Output) => void, reject: (reason: unknown) => void): void => {
      const runOptions: PiscinaRunOptions = { name, ...(transferList === undefined ? {} : { transferList }) };
      if (signal === undefined && timeout === Infinity) {
        this.#piscina.run(input, runOptions).then(resolve, reject);
        return;
      }
      // One controller cancels the task for either cause; piscina would reject with its own
      // AbortError, but the caller gets the signal's reason or OffloadTimeoutError instead.
      const cancel = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const stop = (reason: unknown): void => {
        settle();
        reject(reason);
        cancel.abort(reason);
      };
      const onAbort = (): void => stop(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeout !== Infinity) timer = setTimeout(() => stop(new OffloadTimeoutError(task, timeout)), timeout);
      this.#piscina.run(input, { ...runOptions, signal: cancel.signal }).then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          if (!cancel.signal.aborted) reject(error);
        },
      );
    };
    if (site === null || reported) return new Promise(executor);
    return OffloadPromise.checked(executor, () => reportOffloadUnderLock(task, 'awaited', site));
  }

  /** Refuses new runs and resolves once the queued and running ones have finished. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#piscina.close();
  }

  /** Refuses new runs and terminates the workers: queued and running tasks reject. */
  destroy(): Promise<void> {
    this.#closed = true;
    return this.#piscina.destroy();
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** offload()'s pools, one per task module, created on first use. */
const defaultPools = new Map<string, OffloadPool>();

/**
 * Runs the default export of the task module `filename` with `input` in a worker thread of a
 * pool shared by every `offload()` of that module (created on first use with piscina's
 * defaults), and resolves with its result. The pool's idle workers never keep the process
 * alive: a program exits once its work is done, without closing anything.
 *
 * Timeout, abort and checked mode behave as `OffloadPool.run`: `timeout` rejects with
 * `OffloadTimeoutError`, aborting with `signal.reason`, and either cancels the task (a running
 * task's worker is terminated and replaced); in checked mode, calling or awaiting it while
 * holding locks is reported on `channels.offloadUnderLock`.
 *
 * @example
 * // kdf.mjs: import { scryptSync } from 'node:crypto';
 * //          export default ({ password, salt }) => scryptSync(password, salt, 32);
 * const key = await offload(new URL('./kdf.mjs', import.meta.url), { password, salt }, { timeout: 5_000 });
 */
export function offload<Input = unknown, Output = unknown>(filename: string | URL, input: Input, options?: OffloadRunOptions): Promise<Output> {
  let pool: OffloadPool;
  try {
    const path = taskPath(filename, 'offload()');
    pool = defaultPools.get(path) ?? new OffloadPool({ filename: path });
    defaultPools.set(path, pool);
  } catch (error) {
    return Promise.reject(error);
  }
  return pool.runFor(input, options, offload) as Promise<Output>;
}
