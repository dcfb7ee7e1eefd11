/**
 * deadbolt: lock discipline for TypeScript on Node.js. Ranked async locks, a learned lock order,
 * and deadlocks reported as errors instead of hangs.
 */
export { Mutex } from './primitives/mutex.js';
export { RwLock } from './primitives/rwlock.js';
export { Semaphore, type SemaphoreRunOptions } from './primitives/semaphore.js';
export { Condition } from './primitives/condition.js';
export { lockAll, runAll, type Lockable } from './primitives/lock-all.js';
export type { Guard } from './primitives/guard.js';
export type { LockSpec } from './primitives/lock-spec.js';
export type { AcquireOptions } from './primitives/options.js';
export type { FifoLock } from './primitives/fifo-lock.js';
export type { LockOptions } from './discipline/lock-class.js';
export { configure, getConfig } from './discipline/engine.js';
export type { DeadboltConfig, DeadboltOptions, PotentialDeadlockAction, StackPolicy } from './discipline/config.js';
export { DeadboltError, DeadlockError, LockOrderError, LockTimeoutError } from './discipline/errors.js';
export type { CycleStep, EdgeRef, LockOrderKind, LockRef } from './discipline/errors.js';
export { lockGraph, resetLockGraph, type LockGraph } from './discipline/order-graph.js';
export { channels } from './discipline/events.js';
export { detached } from './discipline/flow.js';
