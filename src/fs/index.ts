/**
 * deadbolt/fs: the process scope. OS file locks that obey the discipline and detect deadlocks
 * across processes, crash-safe atomic writes, and a two-level file-backed Store.
 */
export { FileLock, DEFAULT_FILE_LOCK_TIMEOUT, type FileLockMode, type FileLockAcquireOptions } from './file-lock.js';
export { inspectLocks, cleanStaleLocks, type LockInfo, type LockHolder } from './lock-metadata.js';
export { writeFileAtomic, writeFileAtomicSync, removeAtomicTempDebris, type WriteFileAtomicOptions } from './write-file-atomic.js';
export { Store, type StoreOptions, type StoreSnapshot, type UpdateOptions, type Updater } from './store.js';
export { jsonCodec, type StoreCodec, type StoreFileContent } from './store-codec.js';
export type { StandardSchemaV1, StandardSchemaIssue, StandardSchemaResult } from './standard-schema.js';
export { ConflictError, StoreCorruptError, StoreValidationError } from './errors.js';
