/**
 * deadbolt/threads: locks shared by worker threads over a SharedArrayBuffer, under one discipline
 * across threads (shared ranks, a shared wait-for table, owner-died takeover).
 */
export { SharedMutex, type SharedMutexHandle } from './shared-mutex.js';
export { threadsContext, joinThreads, type ThreadsContext } from './arena.js';
export { OffloadPool, offload, type OffloadPoolOptions, type OffloadRunOptions, type OffloadTransferList } from './offload.js';
export { OffloadClosedError, OffloadTimeoutError } from './offload-errors.js';
export type { WorkerContext } from './offload-join.js';
export { watchEventLoop, EventLoopWatch, type EventLoopStats, type StallReport, type WatchEventLoopOptions } from './event-loop.js';
