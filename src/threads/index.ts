/**
 * deadbolt/threads: locks shared by worker threads over a SharedArrayBuffer, under one discipline
 * across threads (a shared class table of names and ranks, a shared wait-for table, owner-died
 * takeover).
 */
export { SharedMutex, type SharedMutexHandle } from './shared-mutex.js';
export { SharedRwLock, type SharedRwLockHandle } from './shared-rwlock.js';
export { SharedSemaphore, type SharedSemaphoreHandle } from './shared-semaphore.js';
export { SharedCondition, type SharedConditionHandle } from './shared-condition.js';
export type { SharedLockHandle, SharedKind } from './shared-handle.js';
export { threadsContext, joinThreads, type ThreadsContext } from './arena.js';
export { OffloadPool, offload, type OffloadPoolOptions, type OffloadRunOptions, type OffloadTransferList } from './offload.js';
export { OffloadClosedError, OffloadTimeoutError } from './offload-errors.js';
export type { WorkerContext } from './offload-join.js';
export { watchEventLoop, EventLoopWatch, type EventLoopStats, type StallReport, type WatchEventLoopOptions } from './event-loop.js';
