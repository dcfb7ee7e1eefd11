import { closeSync, constants, openSync } from 'node:fs';
import nativeLocks from 'fs-native-extensions';
import type { AcqMode } from '../discipline/acquisition.js';
import { watchForCycle } from './cycle-watch.js';
import { osTimeout } from './fs-reports.js';
import { removeHolderRecord, writeHolderRecord } from './lock-metadata.js';
import { forgetHold, type PublishedHold } from './wait-registry.js';

/** Options of the native try-lock, made once: this is every acquisition's path. */
const SHARED = { shared: true };
const EXCLUSIVE = { shared: false };

/** Poll delays for a contended OS lock: quick at first, then every 8 ms (a waiter notices a free lock within ~8 ms). */
const FIRST_POLL_MS = 1;
const MAX_POLL_MS = 8;
/** Holder metadata is written once a hold has lasted this long: short holds cost no I/O. */
const METADATA_DELAY_MS = 5;

/** One flow waiting for the OS lock to be taken for the process. */
interface Entrant {
  readonly key: object;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Stops the cross-process cycle watch (checked mode, the flow holds file locks). */
  stopWatch: (() => void) | null;
}

interface Pending {
  readonly mode: AcqMode;
  readonly entrants: Set<Entrant>;
  timer: NodeJS.Timeout | undefined;
  delay: number;
}

/**
 * OS locks held but not yet recorded beside the lock file. One timer serves all of them, so a
 * loop of short holds schedules a timer every few ms instead of one per hold.
 */
const unrecorded = new Set<OsLock>();
let recorder: NodeJS.Timeout | undefined;

function scheduleRecorder(): void {
  if (recorder !== undefined) return;
  recorder = setTimeout(recordDue, METADATA_DELAY_MS);
  recorder.unref();
}

function recordDue(): void {
  recorder = undefined;
  const now = Date.now();
  for (const lock of unrecorded) {
    if (now - lock.heldSince < METADATA_DELAY_MS) continue;
    unrecorded.delete(lock);
    lock.writeMetadata();
  }
  if (unrecorded.size > 0) scheduleRecorder();
}

const closer = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // Closed already.
  }
});

/**
 * The OS lock on one lock file, taken once for the whole process. OFD locks belong to an open
 * file description, so two descriptors in one process would conflict with each other: every
 * FileLock on a path shares this one. The in-process FIFO in front of it (FileLock) makes its
 * mode follow the process's holders: the first holder takes the OS lock, shared holders join
 * it, and the last one out unlocks it. The lock file is created if missing and never unlinked.
 *
 * Waiting polls a non-blocking try-lock with backoff: the blocking call of fs-native-extensions
 * runs on a thread per wait and can be neither cancelled nor timed out.
 */
export class OsLock {
  #fd = -1;
  #writable = true;
  /** Guards (or other keys) that entered: each holds a reference on the OS lock. */
  readonly #entered = new Set<object>();
  #held: AcqMode | null = null;
  /** @internal Date.now() when the process took the OS lock. */
  heldSince = 0;
  #pending: Pending | null = null;
  #metadataWritten = false;

  constructor(
    readonly path: string,
    readonly label: string,
    readonly className: string,
  ) {}

  /** The mode the process holds the OS lock in, or null. */
  get heldMode(): AcqMode | null {
    return this.#held;
  }

  #open(mode: AcqMode): number {
    if (this.#fd === -1) {
      try {
        this.#fd = openSync(this.path, constants.O_RDWR | constants.O_CREAT, 0o666);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw describeOpenError(error, this.path);
        // A read-only lock file still supports shared locks.
        try {
          this.#fd = openSync(this.path, constants.O_RDONLY);
          this.#writable = false;
        } catch (inner) {
          throw describeOpenError(inner, this.path);
        }
      }
      closer.register(this, this.#fd);
    }
    if (mode === 'exclusive' && !this.#writable) {
      throw Object.assign(new Error(`FileLock: ${this.path} is read-only for this process, so it can only be locked shared (an exclusive OS lock needs a writable file)`), { code: 'EACCES' });
    }
    return this.#fd;
  }

  #tryNow(mode: AcqMode): boolean {
    const fd = this.#open(mode);
    if (!nativeLocks.tryLock(fd, mode === 'shared' ? SHARED : EXCLUSIVE)) return false;
    this.#held = mode;
    this.heldSince = Date.now();
    unrecorded.add(this);
    scheduleRecorder();
    return true;
  }

  /** @internal Records this process as the holder, beside the lock file. */
  writeMetadata(): void {
    if (this.#held !== null) this.#metadataWritten = writeHolderRecord(this.path, this.className, this.#held, this.heldSince);
  }

  /**
   * Enters without waiting: true if the process now holds the OS lock in `mode` for `key`. Throws
   * on I/O errors (a missing directory, a read-only file and an exclusive mode).
   */
  tryEnter(key: object, mode: AcqMode): boolean {
    if (this.#pending !== null) return false;
    if (this.#held === null ? !this.#tryNow(mode) : this.#held !== mode || mode === 'exclusive') return false;
    this.#entered.add(key);
    return true;
  }

  /**
   * Enters, waiting until `deadline` (performance.now() ms) if another process holds the lock.
   * Resolves once the OS lock is held for `key`; rejects with LockTimeoutError, `signal.reason`,
   * a DeadlockError (this flow closes a cross-process cycle), or an I/O error. Whatever the
   * outcome, `key` has entered and must `leave`.
   */
  enter(key: object, mode: AcqMode, deadline: number, timeout: number, signal: AbortSignal | undefined, holds: readonly PublishedHold[]): Promise<void> {
    this.#entered.add(key);
    if (this.#held !== null) return this.#held === mode && mode === 'shared' ? Promise.resolve() : Promise.reject(new Error(`FileLock internal error: ${mode} entry while the OS lock is held ${this.#held}`));
    try {
      if (this.#pending === null && this.#tryNow(mode)) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const remaining = deadline - performance.now();
    if (remaining <= 0) return Promise.reject(osTimeout(this.label, this.path, mode, timeout));
    const pending = (this.#pending ??= { mode, entrants: new Set(), timer: undefined, delay: FIRST_POLL_MS });
    return new Promise<void>((resolve, reject) => {
      const entrant: Entrant = { key, resolve, reject, timer: undefined, signal, onAbort: undefined, stopWatch: null };
      if (remaining !== Infinity) entrant.timer = setTimeout(() => this.#fail(entrant, osTimeout(this.label, this.path, mode, timeout)), remaining);
      if (signal !== undefined) {
        entrant.onAbort = () => this.#fail(entrant, signal.reason);
        signal.addEventListener('abort', entrant.onAbort, { once: true });
      }
      if (holds.length > 0) entrant.stopWatch = watchForCycle(this.path, mode, this.label, holds, (error) => this.#fail(entrant, error));
      pending.entrants.add(entrant);
      pending.timer ??= setTimeout(() => this.#poll(), pending.delay);
    });
  }

  #settle(entrant: Entrant): void {
    this.#pending?.entrants.delete(entrant);
    if (entrant.timer !== undefined) clearTimeout(entrant.timer);
    if (entrant.onAbort !== undefined) entrant.signal?.removeEventListener('abort', entrant.onAbort);
    entrant.stopWatch?.();
    entrant.stopWatch = null;
  }

  #fail(entrant: Entrant, error: unknown): void {
    this.#settle(entrant);
    entrant.reject(error);
  }

  #poll(): void {
    const pending = this.#pending;
    if (pending === null) return;
    pending.timer = undefined;
    let acquired: boolean;
    try {
      acquired = this.#tryNow(pending.mode);
    } catch (error) {
      this.#pending = null;
      for (const entrant of [...pending.entrants]) this.#fail(entrant, error);
      return;
    }
    if (acquired) {
      this.#pending = null;
      for (const entrant of [...pending.entrants]) {
        this.#settle(entrant);
        entrant.resolve();
      }
      return;
    }
    pending.delay = Math.min(pending.delay * 2, MAX_POLL_MS);
    if (this.#pending === pending && pending.entrants.size > 0) pending.timer = setTimeout(() => this.#poll(), pending.delay);
  }

  /** `key` gives its reference back; the last one out unlocks (or stops waiting). */
  leave(key: object): void {
    if (!this.#entered.delete(key) || this.#entered.size !== 0) return;
    const pending = this.#pending;
    if (pending !== null) {
      this.#pending = null;
      if (pending.timer !== undefined) clearTimeout(pending.timer);
      for (const entrant of [...pending.entrants]) this.#settle(entrant);
    }
    if (this.#held === null) return;
    this.#held = null;
    unrecorded.delete(this);
    // The record goes before the unlock, so it never names a holder that has let go.
    if (this.#metadataWritten) removeHolderRecord(this.path);
    this.#metadataWritten = false;
    forgetHold(this.path);
    nativeLocks.unlock(this.#fd);
  }
}

function describeOpenError(error: unknown, path: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'its directory does not exist' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
  return Object.assign(new Error(`FileLock: cannot open lock file ${path}: ${reason}`, { cause: error }), { code });
}
