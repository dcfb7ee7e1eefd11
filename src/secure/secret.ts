import type { AcquireOptions } from '../index.js';
import { gateFor, type AccessGate } from './access-gate.js';
import { CanaryError, SecretClosedError } from './errors.js';
import { register, unregister, type Destroyable } from './registry.js';
import { SecureRegion } from './secure-region.js';

/**
 * A read-only secret with asherah's semantics: no-access by default, readable only while a
 * `withBytes` callback runs, with accessors counted.
 *
 * - The accessor count and the mprotect change happen together under the secret's own lock:
 *   two "first" readers can never race (one unprotecting while the other re-protects). The
 *   callback runs outside that lock.
 * - `close()` lets no new reader in, waits for the current readers (bounded by `timeout` and
 *   `signal`), then wipes and frees. `withBytes` after close throws `SecretClosedError`.
 * - Checked mode: the lock is of class `secret`, rank 30 (after `coffer` and `buffers`).
 *
 * @example
 * const secret = SecretFactory.create(Buffer.from(process.env.DB_PASSWORD ?? ''));
 * await secret.withBytes((password) => db.connect({ password: Buffer.from(password) }));
 * await secret.close({ timeout: 1_000 });
 */
export class Secret implements Destroyable, AsyncDisposable {
  readonly #gate: AccessGate;
  readonly #ref: WeakRef<Destroyable>;
  #closed = false;

  /** @internal Use SecretFactory. */
  constructor(region: SecureRegion) {
    this.#gate = gateFor(region, `Secret(${region.size} bytes)`, 'secret', 'readonly');
    this.#ref = register(this, this.#gate);
  }

  get size(): number {
    return this.#gate.region.size;
  }

  /** True once close() began. */
  get isClosed(): boolean {
    return this.#closed || this.#gate.closing;
  }

  /** Readers in their callback right now. */
  get accessors(): number {
    return this.#gate.accessors;
  }

  get description(): string {
    return this.#gate.what;
  }

  /** Runs `fn` with a read-only view of the secret, valid only until `fn` (or its promise) finishes. */
  withBytes<R>(fn: (bytes: Uint8Array) => R | PromiseLike<R>): Promise<R> {
    if (typeof fn !== 'function') return Promise.reject(new TypeError('Secret.withBytes(fn): fn must be a function'));
    return this.#gate.access(fn);
  }

  /**
   * Waits for running readers (timeout/signal bound the wait: on expiry the secret stays closed
   * to new readers and is not freed yet; call close again), then wipes and frees. Idempotent.
   */
  async close(options?: AcquireOptions): Promise<void> {
    if (this.#closed) return;
    const intact = await this.#gate.close(options);
    if (this.#closed) return;
    this.#closed = true;
    unregister(this.#ref);
    if (!intact) throw new CanaryError(this.description);
  }

  /** For purge(): the same as close. */
  destroy(options?: AcquireOptions): Promise<void> {
    return this.close(options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Makes Secrets. `create` copies the bytes into secure memory and wipes the source.
 *
 * @example
 * const token = SecretFactory.random(32);
 */
export const SecretFactory = {
  create(source: Uint8Array): Secret {
    return new Secret(SecureRegion.copyOf(source, 'SecretFactory.create(source)'));
  },
  random(size: number): Secret {
    return new Secret(SecureRegion.random(size));
  },
};

export { SecretClosedError };
