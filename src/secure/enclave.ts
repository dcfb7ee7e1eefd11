import sodium from 'sodium-native';
import { Coffer, defaultCoffer } from './coffer.js';
import { EnclaveOpenError, SecretClosedError } from './errors.js';
import { LockedBuffer } from './locked-buffer.js';

const NONCE_BYTES = sodium.crypto_secretbox_NONCEBYTES; // 24
const MAC_BYTES = sodium.crypto_secretbox_MACBYTES; // 16

/**
 * Secret bytes sealed (encrypted) under a coffer's key, memguard's Enclave: XSalsa20-Poly1305
 * (libsodium's secretbox) with a random 24-byte nonce. The sealed bytes are ciphertext, safe in
 * ordinary memory; the plaintext exists only in secure memory, inside the `LockedBuffer` that
 * `open()` returns.
 *
 * - `Enclave.seal(buffer)` encrypts the buffer's bytes, then destroys the buffer: the secret
 *   lives in one place. Bad input (a destroyed buffer, a destroyed coffer) rejects before
 *   anything is destroyed.
 * - `open()` decrypts into a new `LockedBuffer` (destroy it when done); the enclave stays
 *   sealed and can be opened again. Altered ciphertext, or a key that changed since sealing
 *   (`purge()` resets the coffer, `coffer.reset()`, a destroyed coffer), rejects with
 *   `EnclaveOpenError`.
 * - Locking: the key is taken from the coffer first (lock class `coffer`, rank 10, held only to
 *   compute it), then the buffer is accessed (class `buffer`, rank 30); neither lock is held
 *   while waiting for the other, and no user code runs under either. An enclave itself is
 *   immutable and needs no lock.
 *
 * @example
 * const enclave = await Enclave.seal(LockedBuffer.from(Buffer.from(process.env.API_KEY ?? '')));
 * await using key = await enclave.open();
 * await key.withBytes((bytes) => sign(bytes, payload));
 */
export class Enclave {
  /** nonce (24 bytes) || secretbox of the plaintext (16-byte tag + ciphertext). */
  readonly #sealed: Buffer;
  readonly #size: number;
  readonly #coffer: Coffer;

  private constructor(sealed: Buffer, size: number, coffer: Coffer) {
    this.#sealed = sealed;
    this.#size = size;
    this.#coffer = coffer;
  }

  /**
   * Seals the bytes of `buffer` under the key of `coffer` (the process-wide `defaultCoffer()`
   * unless given), then destroys `buffer` (waiting for its running callbacks). A frozen buffer
   * can be sealed. Rejects with `SecretClosedError` if the buffer or the coffer was destroyed,
   * and then nothing is lost; with `CanaryError` if the buffer's canary was overwritten (it is
   * freed anyway, and no enclave is made).
   */
  static async seal(buffer: LockedBuffer, coffer: Coffer = defaultCoffer()): Promise<Enclave> {
    if (!(buffer instanceof LockedBuffer)) throw new TypeError('Enclave.seal(buffer, coffer): buffer must be a LockedBuffer');
    if (!(coffer instanceof Coffer)) throw new TypeError('Enclave.seal(buffer, coffer): coffer must be a Coffer');
    if (!buffer.isAlive) throw new SecretClosedError(buffer.description);
    const size = buffer.size;
    const sealed = Buffer.alloc(NONCE_BYTES + MAC_BYTES + size);
    const nonce = sealed.subarray(0, NONCE_BYTES);
    sodium.randombytes_buf(nonce);
    // Key first (coffer lock, released before the callback), then the buffer (its own lock).
    await coffer.view((key) => buffer.withBytes((bytes) => sodium.crypto_secretbox_easy(sealed.subarray(NONCE_BYTES), bytes, nonce, key)));
    await buffer.destroy();
    return new Enclave(sealed, size, coffer);
  }

  /** Seals `size` random bytes (libsodium's CSPRNG) that never exist outside secure memory. */
  static async random(size: number, coffer: Coffer = defaultCoffer()): Promise<Enclave> {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`Enclave.random(size): size must be a positive integer, got ${String(size)}`);
    if (!(coffer instanceof Coffer)) throw new TypeError('Enclave.random(size, coffer): coffer must be a Coffer');
    const buffer = LockedBuffer.random(size);
    try {
      return await Enclave.seal(buffer, coffer);
    } finally {
      if (buffer.isAlive) await buffer.destroy();
    }
  }

  /** Bytes of the plaintext (the size of the buffer `open()` returns). */
  get size(): number {
    return this.#size;
  }

  /** A copy of the sealed bytes: nonce (24) || Poly1305 tag (16) || XSalsa20 ciphertext. Not secret. */
  get ciphertext(): Buffer {
    return Buffer.from(this.#sealed);
  }

  /**
   * Decrypts into a new `LockedBuffer` of `size` bytes. Rejects with `EnclaveOpenError` when
   * authentication fails: the sealed bytes were altered, or the coffer's key is not the one they
   * were sealed under (reset by `purge()` or `reset()`, or the coffer destroyed). The enclave is
   * unchanged and may be opened again.
   */
  async open(): Promise<LockedBuffer> {
    const coffer = this.#coffer;
    if (coffer.isDestroyed) throw new EnclaveOpenError();
    const out = LockedBuffer.alloc(this.#size);
    let opened = false;
    try {
      const nonce = this.#sealed.subarray(0, NONCE_BYTES);
      const box = this.#sealed.subarray(NONCE_BYTES);
      opened = await coffer.view((key) => out.withBytes((bytes) => sodium.crypto_secretbox_open_easy(bytes, box, nonce, key)));
    } catch (error) {
      await out.destroy();
      // The coffer was destroyed while we waited for it: its key is gone, as after a purge.
      if (error instanceof SecretClosedError && coffer.isDestroyed) throw new EnclaveOpenError();
      throw error;
    }
    if (!opened) {
      await out.destroy();
      throw new EnclaveOpenError();
    }
    return out;
  }

  /** @internal For tests of authentication: flips the bits of one sealed byte. */
  corruptForTest(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.#sealed.length) throw new RangeError(`corruptForTest(index): index must be in [0, ${this.#sealed.length}), got ${String(index)}`);
    this.#sealed[index] = (this.#sealed[index] as number) ^ 0xff;
  }
}
