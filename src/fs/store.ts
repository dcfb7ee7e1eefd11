import { mkdirSync, readFileSync, statSync, type BigIntStats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { LockTimeoutError } from '../discipline/errors.js';
import { channels, publish } from '../discipline/events.js';
import { RwLock } from '../primitives/rwlock.js';
import { parseAcquireOptions } from '../primitives/options.js';
import { ConflictError, StoreCorruptError, StoreValidationError } from './errors.js';
import { FileLock, DEFAULT_FILE_LOCK_TIMEOUT } from './file-lock.js';
import { cleanStaleLocks } from './lock-metadata.js';
import { isStandardSchema, type StandardSchemaV1 } from './standard-schema.js';
import { StoreFormat } from './store-format.js';
import { checkVersion, deepFreeze, jsonCodec, type StoreCodec } from './store-codec.js';
import { removeAtomicTempDebris, writeFileAtomic } from './write-file-atomic.js';

/** A state of the store: immutable (deeply frozen for plain data), with the version it was written at. */
export interface StoreSnapshot<T> {
  readonly version: number;
  readonly data: Readonly<T>;
}

export interface StoreOptions<T> {
  /** The data of a store whose file does not exist yet (version 0). A function is called each time it is needed. */
  readonly initial: T | (() => T);
  /** Default: JSON, `{ "version": n, "data": ... }`. */
  readonly codec?: StoreCodec<T>;
  /** A Standard Schema (zod, valibot, arktype, ...) checked on every load and every update. */
  readonly schema?: StandardSchemaV1<unknown, T>;
  /** Lock file. Default `<path>.lock`, beside the data file (never the data file itself). */
  readonly lockPath?: string;
  /** Lock class names for checked mode: `<name>.file` and `<name>.memory`. Default: the lock file's path, and `<path>.memory`. */
  readonly name?: string;
  /** Rank of the file lock; the in-process lock gets `rank + 0.5`, so the file lock always comes first. */
  readonly rank?: number;
  /** Longest wait for the file lock, in ms (default 30 000). */
  readonly timeout?: number;
  /** Concurrent updates share one file-lock hold and one write (default true). */
  readonly coalesce?: boolean;
  /** fsync file and directory on every write (default true). */
  readonly fsync?: boolean;
}

export interface UpdateOptions {
  /** Fail with ConflictError unless the store is at this version when the update applies. */
  readonly expectVersion?: number;
  /**
   * Give up with LockTimeoutError if the update has not started within this many ms (it waits for
   * earlier writes of this process and for the file lock). 0: only if nothing needs waiting for.
   * Once started, the update completes. Default: the store's `timeout` for the file lock.
   */
  readonly timeout?: number;
  /** Aborting before the update's function starts rejects with `signal.reason`; after that, the update completes. */
  readonly signal?: AbortSignal;
}

/** A function that changes a draft (a private deep copy) in place, or returns the new data. */
export type Updater<T> = (draft: T) => T | void | Promise<T | void>;

interface PendingUpdate<T> {
  readonly fn: Updater<T>;
  readonly expectVersion: number | undefined;
  readonly resolve: (snapshot: StoreSnapshot<T>) => void;
  readonly reject: (error: unknown) => void;
  /** Set once the update leaves the queue: started, or given up. */
  settled: boolean;
  cleanup: (() => void) | null;
}

/** What tells one file state from another without reading it. */
function signature(stats: BigIntStats | undefined): string {
  return stats === undefined ? 'missing' : `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
}

const NO_FILE = 'missing';

/**
 * A file-backed store shared by processes, with the registry strategy built in:
 *
 * - Reads (`get`, `read`, `snapshot`) are lock-free: they serve an immutable in-memory snapshot
 *   and reload only when the file changed (inode, size, mtime), checked with one `stat`.
 * - `update(fn)` is a transaction: the exclusive file lock, then the in-process write lock;
 *   reload if the file changed, apply `fn` to a deep copy, validate, write atomically (temp,
 *   fsync, rename, directory fsync), bump the version, swap the snapshot.
 * - Concurrent updates in one process coalesce: one lock hold and one write for all of them,
 *   applied in call order, and each caller gets its own result or error.
 * - `expectVersion` makes an update optimistic (`ConflictError` if the store moved).
 * - A file that does not decode or fails the schema is `StoreCorruptError`, and is never
 *   overwritten; bad data from an update is `StoreValidationError`, and is never written.
 * - Checked mode: the file lock and the in-process lock are locks of the discipline; an update
 *   called from inside an update of the same store throws instead of deadlocking.
 *
 * @example
 * const machines = new Store<Record<string, Machine>>('/var/lib/app/machines.json', { initial: {} });
 * await machines.update((draft) => { draft['m1'] = { host: 'a', cpus: 4 }; });
 * console.log(machines.get()['m1']);
 */
export class Store<T> {
  readonly path: string;
  readonly lockPath: string;
  readonly #fileLock: FileLock;
  readonly #memoryLock: RwLock;
  readonly #format: StoreFormat<T>;
  readonly #initial: T | (() => T);
  readonly #timeout: number;
  readonly #coalesce: boolean;
  readonly #fsync: boolean;
  #snapshot: StoreSnapshot<T> | null = null;
  #signature = '';
  #corrupt: { signature: string; error: StoreCorruptError } | null = null;
  readonly #queue: PendingUpdate<T>[] = [];
  #running = false;
  #applyingSync = false;
  #directoryReady = false;

  constructor(path: string, options: StoreOptions<T>) {
    if (typeof path !== 'string' || path === '') throw new TypeError(`Store: path must be a non-empty string, got ${JSON.stringify(path)}`);
    if (options === null || typeof options !== 'object' || !('initial' in options)) throw new TypeError('Store: options must be an object with `initial` (the data of a store whose file does not exist yet)');
    const { codec, schema, lockPath, name, rank, timeout = DEFAULT_FILE_LOCK_TIMEOUT, coalesce = true, fsync = true } = options;
    if (codec !== undefined && (typeof codec?.encode !== 'function' || typeof codec?.decode !== 'function')) throw new TypeError('Store: codec must have encode(content) and decode(bytes)');
    if (schema !== undefined && !isStandardSchema(schema)) throw new TypeError('Store: schema must implement Standard Schema v1 (zod, valibot, arktype, ...)');
    parseAcquireOptions({ timeout }, 'Store');
    this.path = resolvePath(path);
    this.lockPath = resolvePath(lockPath ?? `${this.path}.lock`);
    if (this.lockPath === this.path) throw new TypeError(`Store: the lock file must not be the data file (${this.path}): the data file is replaced by rename, and a lock on the old inode protects nothing`);
    // Unnamed, the file lock is named by its path, as every FileLock is: a FileLock made on the
    // same lock file elsewhere in the process is then the same lock, in whichever order.
    this.#fileLock = new FileLock(this.lockPath, { name: name === undefined ? undefined : `${name}.file`, rank });
    this.#memoryLock = new RwLock({ name: `${name ?? this.path}.memory`, rank: rank === undefined ? undefined : rank + 0.5 });
    this.#format = new StoreFormat(this.path, codec ?? (jsonCodec as StoreCodec<T>), schema);
    this.#initial = options.initial;
    this.#timeout = timeout;
    this.#coalesce = coalesce;
    this.#fsync = fsync;
  }

  /** The current data (lock-free; one `stat` to notice other processes' writes). Throws StoreCorruptError. */
  get(): Readonly<T> {
    return this.snapshot().data;
  }

  /** Runs `fn` on the current data and returns its result. The data cannot change under `fn`. */
  read<R>(fn: (data: Readonly<T>) => R): R {
    return fn(this.snapshot().data);
  }

  /** The current data and its version, reloaded first if the file changed. */
  snapshot(): StoreSnapshot<T> {
    let stats: BigIntStats | undefined;
    try {
      stats = statSync(this.path, { bigint: true, throwIfNoEntry: false });
    } catch (error) {
      throw describeIo(error, this.path, 'stat');
    }
    const seen = signature(stats);
    const known = this.#known(seen);
    if (known !== null) return known;
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path);
    } catch (error) {
      throw describeIo(error, this.path, 'read');
    }
    let content: StoreSnapshot<T>;
    try {
      content = this.#format.loadSync(bytes);
    } catch (error) {
      throw this.#markCorrupt(error, seen);
    }
    return this.#install(content, seen);
  }

  /** Re-reads the file now, even if it looks unchanged (after repairing a corrupt file by hand, say). */
  async reload(): Promise<StoreSnapshot<T>> {
    await using _ = await this.#memoryLock.write();
    this.#signature = '';
    this.#corrupt = null;
    return this.#loadIfChanged();
  }

  /**
   * Applies `fn` to a private deep copy of the current data and writes the result atomically.
   * `fn` may change the draft in place or return new data. Resolves with the snapshot written.
   * `fn` runs while the file lock is held, so it must not update this store.
   *
   * Errors: `fn`'s own error, `ConflictError` (expectVersion), `StoreValidationError` (schema),
   * `StoreCorruptError` (the file on disk is corrupt), `LockTimeoutError`, `DeadlockError`, or an
   * I/O error from the write (then nothing was written for any caller of that write).
   */
  update(fn: Updater<T>, options?: UpdateOptions): Promise<StoreSnapshot<T>> {
    if (typeof fn !== 'function') return Promise.reject(new TypeError('Store.update(fn): fn must be a function'));
    if (this.#applyingSync || this.#fileLock.heldByCurrentFlow()) {
      return Promise.reject(
        new Error(
          `Store.update() called from inside an update of ${this.path}, or by a flow that holds its lock file ${this.lockPath}: the update would wait for that flow to finish, forever. Return the change from the outer function instead, or release the lock first.`,
        ),
      );
    }
    let parsed: { timeout: number; signal: AbortSignal | undefined };
    try {
      parsed = parseAcquireOptions(options, 'Store.update()', undefined, Infinity);
    } catch (error) {
      return Promise.reject(error);
    }
    const { timeout, signal } = parsed;
    const expectVersion = options?.expectVersion;
    if (expectVersion !== undefined && checkVersion(expectVersion) !== null) return Promise.reject(new TypeError(`Store.update(): expectVersion ${checkVersion(expectVersion)}`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<StoreSnapshot<T>>((resolve, reject) => {
      const pending: PendingUpdate<T> = { fn, expectVersion, resolve, reject, settled: false, cleanup: null };
      this.#watch(pending, timeout, signal);
      this.#queue.push(pending);
      if (!this.#running) {
        this.#running = true;
        // Started from a resolved promise, so callers in the same tick join the first batch.
        void Promise.resolve().then(() => this.#drainQueue());
      }
    });
  }

  /**
   * Removes what crashed writers left: temp files of dead writers beside the store file, and
   * holder records of dead processes beside the lock. Never touches the store or lock file.
   */
  async cleanup(): Promise<string[]> {
    const removed = await removeAtomicTempDebris(this.path);
    removed.push(...(await cleanStaleLocks(dirname(this.lockPath))));
    return removed;
  }

  /** Arms the caller's timeout and signal until its update starts (nothing to arm without them). */
  #watch(pending: PendingUpdate<T>, timeout: number, signal: AbortSignal | undefined): void {
    if (timeout === Infinity && signal === undefined) return;
    const giveUp = (error: unknown): void => {
      if (pending.settled) return;
      pending.settled = true;
      pending.cleanup?.();
      pending.reject(error);
    };
    const timer =
      timeout !== Infinity
        ? setTimeout(() => {
            const error = new LockTimeoutError(`timed out after ${timeout} ms waiting to update ${this.path}`, `The update waited ${timeout} ms for earlier writes and for ${this.#fileLock.label}; it did not start, and nothing of it was written.`, timeout, this.#fileLock.label);
            publish(channels.timeout, { error });
            giveUp(error);
          }, timeout)
        : undefined;
    const onAbort = (): void => giveUp(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    pending.cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
  }

  async #drainQueue(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#coalesce ? this.#queue.splice(0) : this.#queue.splice(0, 1);
        const live = batch.filter((pending) => !pending.settled);
        if (live.length > 0) await this.#runBatch(live);
      }
    } finally {
      this.#running = false;
    }
  }

  async #runBatch(batch: PendingUpdate<T>[]): Promise<void> {
    const waiting = new AbortController();
    // Only a caller with a timeout or a signal can give up before the write starts: with none,
    // there is nothing to watch for.
    const stopIfAbandoned = batch.some((pending) => pending.cleanup !== null)
      ? setInterval(() => {
          if (batch.every((pending) => pending.settled)) waiting.abort(new Error('every caller of this write gave up'));
        }, 50).unref()
      : undefined;
    /** Started updates whose caller has not been answered yet. */
    const open = new Set<PendingUpdate<T>>();
    let written: StoreSnapshot<T> | null = null;
    try {
      if (!this.#directoryReady) {
        mkdirSync(dirname(this.path), { recursive: true });
        mkdirSync(dirname(this.lockPath), { recursive: true });
        this.#directoryReady = true;
      }
      await using _file = await this.#fileLock.lock({ mode: 'exclusive', timeout: this.#timeout, signal: waiting.signal });
      await using _memory = await this.#memoryLock.write();
      clearInterval(stopIfAbandoned);
      // Started: from here on each update completes (its timeout and signal no longer apply).
      const started = batch.filter((pending) => !pending.settled);
      for (const pending of started) {
        pending.settled = true;
        pending.cleanup?.();
        open.add(pending);
      }
      const base = await this.#loadIfChanged();
      let data = base.data as T;
      let changed = false;
      for (const pending of started) {
        const outcome = await this.#apply(pending, data, base.version, changed);
        if ('data' in outcome) {
          data = outcome.data;
          changed = true;
        } else {
          open.delete(pending);
          pending.reject(outcome.error);
        }
      }
      if (!changed) return;
      const version = base.version + 1;
      const bytes = this.#format.codec.encode({ version, data });
      // What other processes will load is the decoded file, not this process's objects: check
      // that it decodes and passes the schema (a Date, say, comes back from JSON as a string).
      data = await this.#format.readBack(bytes, version);
      await writeFileAtomic(this.path, bytes, { fsync: this.#fsync });
      const stats = await stat(this.path, { bigint: true });
      written = this.#install({ version, data }, signature(stats));
    } catch (error) {
      clearInterval(stopIfAbandoned);
      for (const pending of batch) {
        if (!pending.settled) {
          pending.settled = true;
          pending.cleanup?.();
          pending.reject(error);
        }
      }
      for (const pending of open) pending.reject(error);
      return;
    }
    // Answered once both locks are released: a caller that goes on after its update finds them free.
    if (written !== null) for (const pending of open) pending.resolve(written);
  }

  /** One caller's change, on top of the changes before it in the batch. */
  async #apply(pending: PendingUpdate<T>, data: T, baseVersion: number, changedBefore: boolean): Promise<{ data: T } | { error: unknown }> {
    if (pending.expectVersion !== undefined && (pending.expectVersion !== baseVersion || changedBefore)) {
      return { error: new ConflictError(this.path, pending.expectVersion, changedBefore ? baseVersion + 1 : baseVersion) };
    }
    try {
      const draft = structuredClone(data);
      this.#applyingSync = true;
      let returned: T | void | Promise<T | void>;
      try {
        returned = pending.fn(draft);
      } finally {
        this.#applyingSync = false;
      }
      const result = await returned;
      const next = result === undefined ? draft : result;
      const checked = await this.#format.validate(next);
      return 'issues' in checked ? { error: new StoreValidationError(this.path, checked.issues) } : { data: checked.value };
    } catch (error) {
      return { error };
    }
  }

  async #loadIfChanged(): Promise<StoreSnapshot<T>> {
    let stats: BigIntStats | undefined;
    try {
      stats = await stat(this.path, { bigint: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw describeIo(error, this.path, 'stat');
    }
    const seen = signature(stats);
    const known = this.#known(seen);
    if (known !== null) return known;
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      throw describeIo(error, this.path, 'read');
    }
    let content: StoreSnapshot<T>;
    try {
      content = await this.#format.load(bytes);
    } catch (error) {
      throw this.#markCorrupt(error, seen);
    }
    return this.#install(content, seen);
  }

  /**
   * The snapshot of file state `seen` if it needs no reading: the cached one, or the initial data
   * of a missing file. Throws the remembered error of a corrupt file that has not changed.
   */
  #known(seen: string): StoreSnapshot<T> | null {
    if (this.#snapshot !== null && seen === this.#signature) return this.#snapshot;
    if (seen === NO_FILE) return this.#install(this.#initialSnapshot(), seen);
    if (this.#corrupt?.signature === seen) throw this.#corrupt.error;
    return null;
  }

  /** A corrupt file stays corrupt until it changes: remember the error instead of decoding it again. */
  #markCorrupt(error: unknown, seen: string): unknown {
    if (error instanceof StoreCorruptError) this.#corrupt = { signature: seen, error };
    return error;
  }

  #initialSnapshot(): StoreSnapshot<T> {
    const initial = typeof this.#initial === 'function' ? (this.#initial as () => T)() : structuredClone(this.#initial);
    return { version: 0, data: initial };
  }

  #install(snapshot: StoreSnapshot<T>, seen: string): StoreSnapshot<T> {
    const frozen = Object.freeze({ version: snapshot.version, data: deepFreeze(snapshot.data) });
    this.#snapshot = frozen;
    this.#signature = seen;
    this.#corrupt = null;
    return frozen;
  }
}

function describeIo(error: unknown, path: string, what: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return Object.assign(new Error(`Store: cannot ${what} ${path}: ${(error as Error).message}`, { cause: error }), { code });
}
