import type { AcqMode } from '../discipline/acquisition.js';
import type { FifoLock } from './fifo-lock.js';

/** One lock and how to take it, for `lockAll`: `rw.reader`, `rw.writer`, `semaphore.weighted(n)`. */
export interface LockSpec {
  readonly lock: FifoLock;
  readonly mode: AcqMode;
  readonly weight: number;
}
