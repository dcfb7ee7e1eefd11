/**
 * deadbolt/fs: the process scope. OS file locks that obey the discipline and detect deadlocks
 * across processes, crash-safe atomic writes, and a two-level file-backed Store.
 */
export { FileLock, DEFAULT_FILE_LOCK_TIMEOUT, type FileLockMode, type FileLockAcquireOptions } from './file-lock.js';
export { inspectLocks, cleanStaleLocks, type LockInfo, type LockHolder } from './lock-metadata.js';
