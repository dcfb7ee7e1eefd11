import type { Acquisition, AcqMode } from '../discipline/acquisition.js';

/**
 * What an acquisition returns. Release it exactly once, or let `using` / `await using` do it:
 *
 * @example
 * await using guard = await mutex.lock();
 * // ... critical section; released at the end of the block, even on throw
 */
export interface Guard extends Disposable, AsyncDisposable {
  /** Releases the lock. Idempotent: a second call does nothing. */
  release(): void;
  /** True until released. */
  readonly held: boolean;
}

/** The internal face of a lock that a guard releases. */
export interface Releasable {
  releaseGuard(guard: LockGuard): void;
}

export class LockGuard implements Guard {
  /** @internal */
  owner: Releasable | null;
  /**
   * @internal Resolving a promise with an object makes V8 look up `then` along the prototype
   * chain (measured at ~10% of an uncontended lock). An own `then` that is undefined ends the
   * lookup at the first step; being undefined, it does not make the guard a thenable.
   */
  readonly then: undefined = undefined;

  constructor(
    owner: Releasable,
    /** @internal */ readonly mode: AcqMode,
    /** @internal */ readonly weight: number,
    /** @internal */ readonly record: Acquisition | null,
  ) {
    this.owner = owner;
  }

  get held(): boolean {
    return this.owner !== null;
  }

  release(): void {
    const owner = this.owner;
    if (owner === null) return;
    this.owner = null;
    owner.releaseGuard(this);
  }

  [Symbol.dispose](): void {
    this.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}
