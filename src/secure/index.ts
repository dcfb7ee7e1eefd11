/**
 * deadbolt/secure: secrets in libsodium secure memory (guard pages, canary, mlock, no-access
 * while idle), on deadbolt's lock discipline: `coffer` (10) < `buffers` (20) < `buffer` (30).
 */
export { LockedBuffer } from './locked-buffer.js';
export { Secret, SecretFactory } from './secret.js';
export { purge, liveBufferCount, PurgeError } from './registry.js';
export { configureSecure, getSecureConfig, type SecureConfig } from './config.js';
export { SecretClosedError, CanaryError, MlockError, SecureMemoryLimitError, EnclaveOpenError } from './errors.js';
export { safeExit, catchSignals } from './exit.js';
export { Coffer, defaultCoffer, COFFER_RANK, DEFAULT_REKEY_INTERVAL_MS, type CofferOptions, type CofferStats } from './coffer.js';
export { Enclave } from './enclave.js';
