import { isMainThread, workerData } from 'node:worker_threads';
import type { DeadboltOptions } from '../discipline/config.js';
import { configure } from '../discipline/engine.js';
import { currentArena, joinThreads, threadsContext, type ThreadsContext } from './arena.js';
import { ARENA_BYTES } from './arena-layout.js';

/** What an offload pool hands its workers as `workerData.deadbolt`. */
export interface WorkerContext extends ThreadsContext {
  /** The creating thread's configuration when the pool was created (checked mode, warnings, ...). */
  readonly config?: DeadboltOptions;
}

/** `workerData` for a pool's workers: this thread's arena and configuration. */
export function workerContext(config: DeadboltOptions): { deadbolt: WorkerContext } {
  return { deadbolt: { ...threadsContext(), config } };
}

function isWorkerContext(value: unknown): value is WorkerContext {
  if (value === null || typeof value !== 'object') return false;
  const { arena } = value as { arena?: unknown };
  return arena instanceof SharedArrayBuffer && arena.byteLength === ARENA_BYTES;
}

/*
 * A worker whose workerData carries `deadbolt: threadsContext()` (every offload pool worker, and
 * any worker started as threadsContext()'s example shows) joins that arena as soon as it loads
 * deadbolt/threads: before the task module's own code runs, so that locks it creates or rebuilds
 * from handles share the creator's ranks and wait-for table without a joinThreads() call. A pool
 * also passes its creator's configuration, so a task runs in the same mode as its caller.
 */
if (!isMainThread && currentArena() === null) {
  const context = (workerData as { deadbolt?: unknown } | null | undefined)?.deadbolt;
  if (isWorkerContext(context)) {
    joinThreads(context);
    if (context.config !== undefined) configure(context.config);
  }
}
