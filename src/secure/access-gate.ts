import { Condition, Mutex, type AcquireOptions } from '../index.js';
import { SecretClosedError } from './errors.js';
import type { Protection, SecureRegion } from './secure-region.js';

/** Rank of the per-buffer lock class: after `coffer` (10) and `buffers` (20). */
export const BUFFER_RANK = 30;

/**
 * Who may touch a secure region, and when. The memory is no-access while nobody uses it. The
 * count of accessors and the mprotect change happen together under one per-buffer lock, so two
 * "first" accessors can never both skip (or both do) the unprotect, and the last one out is the
 * one that protects again (asherah's Go design; its Rust port counted outside the lock, which
 * is where its SIGBUS came from). User callbacks run outside that lock.
 *
 * `close` waits (bounded) for the accessors to finish, then wipes and frees the memory.
 */
export class AccessGate {
  readonly #mutex: Mutex;
  readonly #idle: Condition;
  #accessors = 0;
  #closing = false;
  /** The owner was garbage-collected while a callback still ran: free when the last one leaves. */
  #orphaned = false;

  constructor(
    readonly region: SecureRegion,
    /** For messages: `LockedBuffer(32 bytes)`, `Secret(16 bytes)`. */
    readonly what: string,
    className: string,
    /** The protection while accessed: read-only or read-write. */
    private accessProtection: Protection,
  ) {
    this.#mutex = new Mutex({ name: className, rank: BUFFER_RANK });
    this.#idle = new Condition(this.#mutex);
  }

  get accessors(): number {
    return this.#accessors;
  }

  /** True once close began: no new access is let in. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Runs `fn` on the bytes while they are accessible; they are no-access again once every accessor has left. */
  async access<R>(fn: (bytes: Buffer) => R | PromiseLike<R>): Promise<R> {
    await this.#enter();
    try {
      return await fn(this.region.bytes);
    } finally {
      await this.#leave();
    }
  }

  /** Changes the protection used while accessed (freeze/melt); applied at once if accessed now. */
  async setAccessProtection(protection: Protection): Promise<void> {
    using _ = await this.#mutex.lock();
    if (this.#closing) throw new SecretClosedError(this.what);
    this.accessProtection = protection;
    if (this.#accessors > 0) this.region.protect(protection);
  }

  async #enter(): Promise<void> {
    using _ = await this.#mutex.lock();
    if (this.#closing) throw new SecretClosedError(this.what);
    if (this.#accessors === 0) this.region.protect(this.accessProtection);
    this.#accessors++;
  }

  async #leave(): Promise<void> {
    // No timeout: leaving must not fail, or the memory would stay readable.
    using _ = await this.#mutex.lock({ timeout: Infinity });
    this.#accessors--;
    if (this.#accessors > 0) return;
    if (this.#orphaned) this.region.free();
    else if (!this.region.freed) this.region.protect('noaccess');
    if (this.#closing) this.#idle.notifyAll();
  }

  /**
   * Lets no new accessor in, waits until the current ones leave (timeout and signal bound the
   * wait; on expiry the gate stays closing and the memory stays allocated), then wipes and frees.
   * Returns whether the canary was intact. Closing twice waits for the first close.
   */
  async close(options?: AcquireOptions): Promise<boolean> {
    await using guard = await this.#mutex.lock(options);
    this.#closing = true;
    if (this.region.freed) return true;
    await this.#idle.waitFor(guard, () => this.#accessors === 0, options);
    return this.region.free();
  }

  /**
   * For the finalizer of a buffer nobody can reach any more: frees now, or, if a callback is
   * still running on a view (an async one can outlive every reference to its buffer), when the
   * last callback leaves. Returns false if freeing was deferred.
   */
  freeUnreachable(): boolean {
    this.#closing = true;
    if (this.#accessors > 0) {
      this.#orphaned = true;
      return false;
    }
    this.region.free();
    return true;
  }
}

/** A gate over a fresh region, which is made no-access first (and freed if that fails). */
export function gateFor(region: SecureRegion, what: string, className: string, accessProtection: Protection): AccessGate {
  try {
    region.protect('noaccess');
  } catch (error) {
    region.free();
    throw error;
  }
  return new AccessGate(region, what, className, accessProtection);
}
