import sodium from 'sodium-native';
import { detached, Mutex, type AcquireOptions } from '../index.js';
import { CanaryError, SecretClosedError } from './errors.js';
import { onPurge } from './registry.js';
import { SecureRegion } from './secure-region.js';

/** Rank of the `coffer` lock class: before `buffers` (20) and each `buffer` (30). */
export const COFFER_RANK = 10;

/** memguard's re-key interval. */
export const DEFAULT_REKEY_INTERVAL_MS = 500;

/** setInterval cannot count further; a longer interval would silently fire every 1 ms. */
const MAX_INTERVAL_MS = 2_147_483_647;

/** The key is a secretbox (XSalsa20-Poly1305) key, and a BLAKE2b-256 hash is as long. */
const KEY_BYTES = 32;

export interface CofferOptions {
  /**
   * Milliseconds between two re-keys by the timer (default 500, memguard's). `0`: no timer;
   * re-key with `rekey()` only.
   */
  readonly rekeyIntervalMs?: number;
}

/** What a coffer's re-keying has done so far. */
export interface CofferStats {
  /** Completed re-keys: by the timer and by `rekey()`. */
  readonly rekeys: number;
  /** Timer cycles skipped because the coffer was busy (its lock held or waited for). */
  readonly skippedRekeys: number;
}

/** Coffers not destroyed yet: `purge()` resets each of them. */
const liveCoffers = new Set<Coffer>();

onPurge(async (options) => {
  for (const coffer of [...liveCoffers]) await coffer.resetUnlessDestroyed(options);
});

function xorInto(target: Uint8Array, source: Uint8Array): void {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] as number) ^ (source[i] as number);
}

/** BLAKE2b-256 of `input`, written into `output` (32 bytes). */
function hashInto(output: Uint8Array, input: Uint8Array): void {
  sodium.crypto_generichash(output, input);
}

let readPartitions: (coffer: Coffer) => Promise<{ left: Buffer; right: Buffer }>;

/** For tests only: copies of a coffer's two key partitions, in ordinary memory. Not exported by deadbolt/secure. */
export function partitionsForTest(coffer: Coffer): Promise<{ left: Buffer; right: Buffer }> {
  return readPartitions(coffer);
}

/**
 * memguard's key store: one 32-byte key that is never stored whole. It is split into two
 * 32-byte partitions in libsodium secure memory (guard pages, canary, mlock, no-access while
 * idle), `left` and `right`, with `key = left XOR BLAKE2b-256(right)`.
 *
 * - Re-keying replaces both partitions without changing the key: with `r` random,
 *   `right' = right XOR r` and `left' = left XOR H(right) XOR H(right')`. Memory that leaks one
 *   partition at one moment and the other at another says nothing about the key.
 * - A timer re-keys every `rekeyIntervalMs` (500 ms by default). It is unref'd (it never keeps
 *   the process alive) and it never waits: it takes the lock with `tryLock()`, and when the
 *   coffer is busy (held, or a caller is queued) it skips that cycle and counts it in
 *   `stats.skippedRekeys`. `rekey()` re-keys now, waiting for the lock.
 * - `view(fn)` computes the key into a temporary secure buffer under the lock, releases the
 *   lock, then runs `fn` on the (read-only) key bytes; the buffer is wiped and freed once `fn`
 *   (or its promise) finishes. Keeping the view and touching it later reads nothing.
 * - `reset()` replaces the key with a new random one: whatever was sealed under the old key
 *   (an `Enclave`) can no longer be opened. `purge()` resets every live coffer, as memguard's
 *   Purge does.
 * - `destroy()` stops the timer, waits for the lock, then wipes and frees the partitions; using
 *   the coffer afterwards throws `SecretClosedError`. `defaultCoffer()` then makes a new one.
 * - Checked mode: every coffer's lock is of class `coffer`, rank 10, taken before the registry
 *   (`buffers`, 20) and any buffer (`buffer`, 30). The lock is held only for a few synchronous
 *   hashes and XORs; no user callback ever runs under it.
 *
 * A coffer with a timer stays reachable through it until destroyed.
 *
 * @example
 * await using coffer = new Coffer({ rekeyIntervalMs: 500 });
 * const tag = await coffer.view((key) => mac(key, message)); // key readable only inside
 * await coffer.rekey(); // same key, new partitions
 */
export class Coffer implements AsyncDisposable {
  readonly #mutex = new Mutex({ name: 'coffer', rank: COFFER_RANK });
  readonly #left: SecureRegion;
  readonly #right: SecureRegion;
  /** Re-key temporaries (a random pad and a hash): wiped after each use, no-access while idle. */
  readonly #scratch: SecureRegion;
  readonly #timer: NodeJS.Timeout | null;
  #rekeys = 0;
  #skippedRekeys = 0;
  /** destroy() began: nothing new is let in. */
  #closing = false;
  /** The partitions are freed. */
  #destroyed = false;

  constructor(options: CofferOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`new Coffer(options): options must be an object, got ${String(options)}`);
    const interval = options.rekeyIntervalMs ?? DEFAULT_REKEY_INTERVAL_MS;
    if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0 || interval > MAX_INTERVAL_MS) {
      throw new RangeError(`new Coffer(): rekeyIntervalMs must be a number of ms from 0 (no timer) to ${MAX_INTERVAL_MS}, got ${String(interval)}`);
    }
    const regions: SecureRegion[] = [];
    try {
      for (const size of [KEY_BYTES, KEY_BYTES, 2 * KEY_BYTES]) regions.push(new SecureRegion(size));
    } catch (error) {
      for (const region of regions) region.free();
      throw error;
    }
    [this.#left, this.#right, this.#scratch] = regions as [SecureRegion, SecureRegion, SecureRegion];
    this.#initialise();
    // The timer must not inherit the held set of whoever constructs the coffer (checked mode).
    this.#timer = interval === 0 ? null : detached(() => setInterval(() => this.#tick(), interval).unref());
    liveCoffers.add(this);
  }

  /** Re-keys so far, and timer cycles skipped because the coffer was busy. */
  get stats(): CofferStats {
    return Object.freeze({ rekeys: this.#rekeys, skippedRekeys: this.#skippedRekeys });
  }

  /** True once destroy() began. */
  get isDestroyed(): boolean {
    return this.#closing;
  }

  /**
   * Runs `fn` with the key (32 read-only bytes in secure memory), valid only until `fn` (or its
   * promise) finishes; then the bytes are wiped and freed. The coffer's lock is held only while
   * the key is computed, not while `fn` runs, so `fn` may take any lock (and re-key freely).
   * `timeout`/`signal` bound the wait for the lock.
   */
  async view<R>(fn: (key: Uint8Array) => R | PromiseLike<R>, options?: AcquireOptions): Promise<R> {
    if (typeof fn !== 'function') throw new TypeError('Coffer.view(fn): fn must be a function');
    this.#assertOpen();
    const key = new SecureRegion(KEY_BYTES);
    try {
      await this.#mutex.run(() => {
        this.#assertAlive();
        this.#withPartitions('readonly', () => {
          hashInto(key.bytes, this.#right.bytes);
          xorInto(key.bytes, this.#left.bytes);
        });
      }, options);
      key.protect('readonly');
      return await fn(key.bytes);
    } finally {
      key.free();
    }
  }

  /**
   * Re-keys now, waiting for the lock (bounded by `timeout`/`signal`): new partitions, same
   * key. Counted in `stats.rekeys`.
   */
  async rekey(options?: AcquireOptions): Promise<void> {
    this.#assertOpen();
    await this.#mutex.run(() => {
      this.#assertAlive();
      this.#rekey();
    }, options);
  }

  /** Replaces the key with a new random one: enclaves sealed before can no longer be opened. */
  async reset(options?: AcquireOptions): Promise<void> {
    this.#assertOpen();
    await this.#mutex.run(() => {
      this.#assertAlive();
      this.#initialise();
    }, options);
  }

  /** @internal For purge(): reset, unless the coffer is (being) destroyed. */
  async resetUnlessDestroyed(options?: AcquireOptions): Promise<void> {
    if (this.#closing) return;
    await this.#mutex.run(() => {
      if (!this.#destroyed) this.#initialise();
    }, options);
  }

  /**
   * Stops the timer and lets no new call in, waits for the lock (calls already queued for it go
   * first; `timeout`/`signal` bound the wait: on expiry the coffer stays closed to new use and is
   * not freed yet, call destroy again), then wipes and frees the partitions. Throws
   * `CanaryError` (after freeing) if a canary was overwritten. Idempotent.
   */
  async destroy(options?: AcquireOptions): Promise<void> {
    this.#closing = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    liveCoffers.delete(this);
    if (this.#destroyed) return;
    const intact = await this.#mutex.run(() => {
      if (this.#destroyed) return true;
      this.#destroyed = true;
      const results = [this.#left.free(), this.#right.free(), this.#scratch.free()];
      return results.every(Boolean);
    }, options);
    if (!intact) throw new CanaryError('Coffer');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }

  /** @internal For tests: the coffer's lock (hold it to make the coffer busy). */
  get mutex(): Mutex {
    return this.#mutex;
  }

  static {
    // Not a method, so that it is in no published type: tests import it from this module only.
    readPartitions = (coffer) =>
      coffer.#mutex.run(() => {
        coffer.#assertAlive();
        return coffer.#withPartitions('readonly', () => ({ left: Buffer.from(coffer.#left.bytes), right: Buffer.from(coffer.#right.bytes) }));
      });
  }

  /** Before waiting: nothing new once destroy() began. */
  #assertOpen(): void {
    if (this.#closing) throw new SecretClosedError('Coffer');
  }

  /** Under the lock: calls queued before destroy() (FIFO, ahead of it) still run, unless it already freed. */
  #assertAlive(): void {
    if (this.#destroyed) throw new SecretClosedError('Coffer');
  }

  /** One timer cycle: re-key if the lock is free right now, else count a skip. Never waits. */
  #tick(): void {
    if (this.#closing) return;
    const guard = this.#mutex.tryLock();
    if (guard === null) {
      this.#skippedRekeys++;
      return;
    }
    try {
      if (!this.#destroyed) this.#rekey();
    } catch (error) {
      // A throw here would be an uncaught exception from a library timer: report it instead.
      process.emitWarning(`deadbolt: coffer re-key failed: ${error instanceof Error ? error.message : String(error)}`, { code: 'DEADBOLT_COFFER_REKEY' });
    } finally {
      guard.release();
    }
  }

  /**
   * Makes the partitions accessible for the synchronous `fn` (and the scratch too when writing),
   * and no-access again afterwards, with the scratch wiped. Only under the lock.
   */
  #withPartitions<T>(protection: 'readonly' | 'readwrite', fn: () => T): T {
    const scratch = protection === 'readwrite';
    this.#left.protect(protection);
    this.#right.protect(protection);
    if (scratch) this.#scratch.protect('readwrite');
    try {
      return fn();
    } finally {
      if (scratch) {
        sodium.sodium_memzero(this.#scratch.bytes);
        this.#scratch.protect('noaccess');
      }
      this.#right.protect('noaccess');
      this.#left.protect('noaccess');
    }
  }

  /** memguard's Initialise: random partitions, then `left ^= H(right)` (a new random key). Under the lock. */
  #initialise(): void {
    this.#withPartitions('readwrite', () => {
      const hash = this.#scratch.bytes.subarray(0, KEY_BYTES);
      sodium.randombytes_buf(this.#left.bytes);
      sodium.randombytes_buf(this.#right.bytes);
      hashInto(hash, this.#right.bytes);
      xorInto(this.#left.bytes, hash);
    });
  }

  /** memguard's Rekey: `right ^= r`, `left ^= H(old right) ^ H(new right)`. Under the lock. */
  #rekey(): void {
    this.#withPartitions('readwrite', () => {
      const pad = this.#scratch.bytes.subarray(0, KEY_BYTES);
      const hash = this.#scratch.bytes.subarray(KEY_BYTES);
      sodium.randombytes_buf(pad);
      hashInto(hash, this.#right.bytes);
      xorInto(this.#left.bytes, hash); // left ^ H(old right)
      xorInto(this.#right.bytes, pad);
      hashInto(hash, this.#right.bytes);
      xorInto(this.#left.bytes, hash); // ... ^ H(new right)
    });
    this.#rekeys++;
  }
}

let shared: Coffer | null = null;

/**
 * The process-wide coffer (500 ms re-keys), created on first use; `Enclave` uses it unless
 * given another. If it was destroyed, a new one (with a new key) takes its place.
 *
 * @example
 * const enclave = await Enclave.seal(buffer, defaultCoffer());
 */
export function defaultCoffer(): Coffer {
  if (shared === null || shared.isDestroyed) shared = new Coffer();
  return shared;
}
