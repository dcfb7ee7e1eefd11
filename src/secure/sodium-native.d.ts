// sodium-native ships no types; this declares the part deadbolt/secure uses (sodium-native 5).
declare module 'sodium-native' {
  /** A Buffer from sodium_malloc: `secure` is true, and only such buffers may be mprotected. */
  type SecureBuffer = Buffer & { readonly secure?: boolean };
  export function sodium_malloc(size: number): SecureBuffer;
  export function sodium_free(buf: Buffer): void;
  export function sodium_memzero(buf: Uint8Array): void;
  export function sodium_mlock(buf: Uint8Array): void;
  export function sodium_munlock(buf: Uint8Array): void;
  export function sodium_mprotect_noaccess(buf: Buffer): void;
  export function sodium_mprotect_readonly(buf: Buffer): void;
  export function sodium_mprotect_readwrite(buf: Buffer): void;
  export function sodium_memcmp(a: Uint8Array, b: Uint8Array): boolean;
  export function randombytes_buf(buf: Uint8Array): void;
  export function crypto_generichash(output: Uint8Array, input: Uint8Array, key?: Uint8Array): void;
  export function crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  export function crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
  export const crypto_secretbox_KEYBYTES: number;
  export const crypto_secretbox_NONCEBYTES: number;
  export const crypto_secretbox_MACBYTES: number;
  export const crypto_generichash_BYTES: number;
  const api: {
    sodium_malloc: typeof sodium_malloc;
    sodium_free: typeof sodium_free;
    sodium_memzero: typeof sodium_memzero;
    sodium_mlock: typeof sodium_mlock;
    sodium_munlock: typeof sodium_munlock;
    sodium_mprotect_noaccess: typeof sodium_mprotect_noaccess;
    sodium_mprotect_readonly: typeof sodium_mprotect_readonly;
    sodium_mprotect_readwrite: typeof sodium_mprotect_readwrite;
    sodium_memcmp: typeof sodium_memcmp;
    randombytes_buf: typeof randombytes_buf;
    crypto_generichash: typeof crypto_generichash;
    crypto_secretbox_easy: typeof crypto_secretbox_easy;
    crypto_secretbox_open_easy: typeof crypto_secretbox_open_easy;
    crypto_secretbox_KEYBYTES: number;
    crypto_secretbox_NONCEBYTES: number;
    crypto_secretbox_MACBYTES: number;
    crypto_generichash_BYTES: number;
  };
  export default api;
}
