import type { PublishedWait } from './wait-registry.js';

/**
 * Process-wide state of the fs scope, shared by every copy of deadbolt/fs loaded in the process
 * (the ESM and the CJS build are two module instances). Two copies with state of their own
 * would open two descriptors on one lock file, and OFD locks make those conflict with each
 * other, and they would overwrite each other's published waits.
 */
export interface FsState {
  /** Lock cores by absolute path (weakly held: a core lives while a FileLock or guard uses it). */
  readonly cores: Map<string, WeakRef<object>>;
  /** This process's published waits. */
  readonly waits: Map<string, PublishedWait>;
  nextWait: number;
  published: boolean;
}

const KEY = Symbol.for('deadbolt.fs.state.v1');

export const fsState: FsState = ((globalThis as Record<symbol, FsState | undefined>)[KEY] ??= { cores: new Map(), waits: new Map(), nextWait: 1, published: false });
