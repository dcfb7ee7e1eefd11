import type { Guard } from '../../src/index.js';
import { inOtherFlow } from './helpers.js';

/** A promise with its resolve function exposed. */
export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** A request made by another caller, observable from the test body. */
export interface Contender {
  /** True once the lock was granted. */
  readonly granted: boolean;
  /** True once the request was rejected. */
  readonly failed: boolean;
  /** The guard, once granted. */
  readonly guard: Guard | null;
  /**
   * Settles with the guard once granted, or rejects like the request. It is not the acquisition
   * promise itself, so awaiting it does not make the test body's flow a holder of the lock.
   */
  readonly done: Promise<Guard>;
  /** Releases the guard (it must have been granted). */
  release(): void;
}

/**
 * Starts `acquire` in a flow of its own (see `inOtherFlow`) and tracks it. `onGrant` runs as soon
 * as the lock is granted, e.g. to record the grant order.
 */
export function contend(acquire: () => Promise<Guard>, onGrant?: () => void): Contender {
  let granted = false;
  let failed = false;
  let guard: Guard | null = null;
  const done = inOtherFlow(async () => {
    try {
      guard = await acquire();
    } catch (error) {
      failed = true;
      throw error;
    }
    granted = true;
    onGrant?.();
    return guard;
  });
  // Tests await `done` when they expect a rejection; this only keeps an unobserved one quiet.
  done.catch(() => undefined);
  return {
    get granted() {
      return granted;
    },
    get failed() {
      return failed;
    },
    get guard() {
      return guard;
    },
    done,
    release() {
      if (guard === null) throw new Error('contend(): release() before the lock was granted');
      guard.release();
    },
  };
}

/** Tracks a promise's outcome without awaiting it. */
export function track(promise: Promise<unknown>): { readonly settled: boolean; readonly promise: Promise<unknown> } {
  let settled = false;
  const watched = promise.then(
    (value) => {
      settled = true;
      return value;
    },
    (error: unknown) => {
      settled = true;
      throw error;
    },
  );
  watched.catch(() => undefined);
  return {
    get settled() {
      return settled;
    },
    promise: watched,
  };
}
