import type { AcquireOptions } from '../index.js';
import { gateFor, type AccessGate } from './access-gate.js';
import { CanaryError } from './errors.js';
import { register, unregister, type Destroyable } from './registry.js';
import { SecureRegion } from './secure-region.js';

type View = Uint16Array | Uint32Array | Int8Array | Int16Array | Int32Array | BigInt64Array | BigUint64Array;

/**
 * A fixed-size buffer of secret bytes in libsodium secure memory: guard pages on both sides,
 * a canary before the data, locked into RAM (mlock; see `configureSecure`), and no-access
 * whenever no callback is using it.
 *
 * - Access is through callbacks only: `withBytes(fn)` hands `fn` a view of the secure bytes,
 *   readable (and writable unless frozen) until `fn` returns or its promise settles. Keeping the
 *   view and touching it later kills the process (SIGSEGV), which is the point. The typed
 *   accessors (`uint32(fn)`, ...) hand `fn` a copy, wiped after `fn`.
 * - `freeze()` makes the bytes read-only while accessed (a write then faults); `melt()` undoes it.
 * - `destroy()` waits for running callbacks (bounded by `timeout`/`signal`), wipes, checks the
 *   canary (`CanaryError` if something wrote before the data), and frees. Use after destroy
 *   throws `SecretClosedError`.
 * - Checked mode: each buffer's lock is of class `buffer`, rank 30 (after `coffer` 10 and the
 *   registry `buffers` 20); callbacks never run while any deadbolt/secure lock is held.
 *
 * @example
 * await using key = LockedBuffer.random(32);
 * const mac = await key.withBytes((bytes) => hmac(bytes, message));
 */
export class LockedBuffer implements Destroyable, AsyncDisposable {
  readonly #gate: AccessGate;
  readonly #ref: WeakRef<Destroyable>;
  #frozen = false;
  #destroyed = false;

  private constructor(region: SecureRegion) {
    this.#gate = gateFor(region, `LockedBuffer(${region.size} bytes)`, 'buffer', 'readwrite');
    this.#ref = register(this, this.#gate);
  }

  /** A buffer of `size` zero bytes. */
  static alloc(size: number): LockedBuffer {
    return new LockedBuffer(new SecureRegion(size));
  }

  /** A buffer holding a copy of `source`, which is then wiped (zeroed): the secret lives in one place. */
  static from(source: Uint8Array): LockedBuffer {
    return new LockedBuffer(SecureRegion.copyOf(source, 'LockedBuffer.from(source)'));
  }

  /** A buffer of `size` random bytes (libsodium's CSPRNG). */
  static random(size: number): LockedBuffer {
    return new LockedBuffer(SecureRegion.random(size));
  }

  get size(): number {
    return this.#gate.region.size;
  }

  /** False once destroy() began. */
  get isAlive(): boolean {
    return !this.#destroyed && !this.#gate.closing;
  }

  get isFrozen(): boolean {
    return this.#frozen;
  }

  get description(): string {
    return this.#gate.what;
  }

  /** Read-only while accessed from now on (a write through a view faults). */
  async freeze(): Promise<void> {
    await this.#gate.setAccessProtection('readonly');
    this.#frozen = true;
  }

  /** Writable while accessed again. */
  async melt(): Promise<void> {
    await this.#gate.setAccessProtection('readwrite');
    this.#frozen = false;
  }

  /**
   * Runs `fn` with a view of the secret bytes, accessible only until `fn` (or its promise)
   * finishes. Several callbacks may run at once; the memory is no-access again after the last.
   */
  withBytes<R>(fn: (bytes: Uint8Array) => R | PromiseLike<R>): Promise<R> {
    if (typeof fn !== 'function') return Promise.reject(new TypeError('LockedBuffer.withBytes(fn): fn must be a function'));
    return this.#gate.access(fn);
  }

  /** `fn` gets a copy of the bytes as a Uint16Array in the platform's byte order (little-endian on x64 and arm64), wiped after `fn`. */
  uint16<R>(fn: (view: Uint16Array) => R | PromiseLike<R>): Promise<R> {
    return this.#copy(Uint16Array, fn);
  }

  /** As `uint16`, as a Uint32Array. */
  uint32<R>(fn: (view: Uint32Array) => R | PromiseLike<R>): Promise<R> {
    return this.#copy(Uint32Array, fn);
  }

  /** As `uint16`, as an Int8Array. */
  int8<R>(fn: (view: Int8Array) => R | PromiseLike<R>): Promise<R> {
    return this.#copy(Int8Array, fn);
  }

  /** As `uint16`, as an Int16Array. */
  int16<R>(fn: (view: Int16Array) => R | PromiseLike<R>): Promise<R> {
    return this.#copy(Int16Array, fn);
  }

  /** As `uint16`, as an Int32Array. */
  int32<R>(fn: (view: Int32Array) => R | PromiseLike<R>): Promise<R> {
    return this.#copy(Int32Array, fn);
  }

  /** As `uint16`, as a BigInt64Array. */
  int64<R>(fn: (view: BigInt64Array) => R | PromiseLike<R>): Promise<R> {
    return this.#copy(BigInt64Array, fn);
  }

  /** As `uint16`, as a BigUint64Array. */
  bigUint64<R>(fn: (view: BigUint64Array) => R | PromiseLike<R>): Promise<R> {
    return this.#copy(BigUint64Array, fn);
  }

  /**
   * Copies the bytes out inside a short access window, then runs `fn` on the copy outside it
   * and wipes the copy afterwards. Trailing bytes that do not fill a whole element are left out.
   */
  async #copy<V extends View, R>(Type: { new (length: number): V; readonly BYTES_PER_ELEMENT: number }, fn: (view: V) => R | PromiseLike<R>): Promise<R> {
    if (typeof fn !== 'function') throw new TypeError(`LockedBuffer.${Type.name}(fn): fn must be a function`);
    const view = new Type(Math.floor(this.size / Type.BYTES_PER_ELEMENT));
    const raw = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    await this.#gate.access((bytes) => raw.set(bytes.subarray(0, raw.length)));
    try {
      return await fn(view);
    } finally {
      raw.fill(0);
    }
  }

  /**
   * Waits for running callbacks (bounded by `timeout`/`signal`: on expiry the buffer stays
   * allocated and closed to new access), then wipes, checks the canary and frees. Throws
   * `CanaryError` (after freeing) if the canary was overwritten. Destroying twice is a no-op.
   */
  async destroy(options?: AcquireOptions): Promise<void> {
    if (this.#destroyed) return;
    const intact = await this.#gate.close(options);
    if (this.#destroyed) return;
    this.#destroyed = true;
    unregister(this.#ref);
    if (!intact) throw new CanaryError(this.description);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  /** @internal The gate, for Enclave and Coffer in this package. */
  get gate(): AccessGate {
    return this.#gate;
  }
}
