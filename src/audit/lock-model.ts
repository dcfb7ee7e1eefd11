/*
 * What the audit knows about lock libraries: for each package export that makes a lock, the
 * methods that acquire, try, run a callback under it, release, and read its state. Config-declared
 * lock types (LockTypeSpecifier) are turned into the same shape.
 */
import type { LockKind, LockTypeSpecifier } from './types.js';

/**
 * What an acquire method resolves to, which decides how it is released:
 * `guard` (deadbolt: `release()` / `Symbol.dispose`), `handle` (@esfx LockHandle: `unlock()`),
 * `release-fn` (async-mutex Mutex, proper-lockfile: call it), `tuple` (async-mutex Semaphore:
 * `[value, release]`), `none` (release by a method on the lock itself), `boolean` (a try-lock
 * that only says whether it got the lock).
 */
export type AcquireResult = 'guard' | 'handle' | 'release-fn' | 'tuple' | 'none' | 'boolean';

export interface LockDef {
  readonly kind: LockKind;
  /** Library type name: `Mutex`, `AsyncLock`, `lockfile.lock`. */
  readonly type: string;
  readonly library: string;
  readonly acquire: ReadonlyMap<string, AcquireResult>;
  readonly tryAcquire: ReadonlyMap<string, AcquireResult>;
  /** Method -> index of the callback argument run under the lock. */
  readonly run: ReadonlyMap<string, number>;
  /** Methods on the lock object that release the current holder. */
  readonly release: ReadonlySet<string>;
  /** Methods or getters that read whether the lock is taken. */
  readonly state: ReadonlySet<string>;
  /** Acquire methods that block the thread instead of returning a promise. */
  readonly syncAcquire: ReadonlySet<string>;
  readonly reentrant: boolean;
  /** False for semaphores: several holders at once, so a second hold is not a certain deadlock. */
  readonly exclusive: boolean;
  /** async-lock: one instance, a lock per key. */
  readonly keyed: boolean;
}

interface DefInput {
  readonly kind: LockKind;
  readonly type: string;
  readonly library: string;
  readonly acquire?: Record<string, AcquireResult>;
  readonly tryAcquire?: Record<string, AcquireResult>;
  readonly run?: Record<string, number>;
  readonly release?: readonly string[];
  readonly state?: readonly string[];
  readonly syncAcquire?: readonly string[];
  readonly reentrant?: boolean;
  readonly exclusive?: boolean;
  readonly keyed?: boolean;
}

function def(input: DefInput): LockDef {
  return {
    kind: input.kind,
    type: input.type,
    library: input.library,
    acquire: new Map(Object.entries(input.acquire ?? {})),
    tryAcquire: new Map(Object.entries(input.tryAcquire ?? {})),
    run: new Map(Object.entries(input.run ?? {})),
    release: new Set(input.release ?? []),
    state: new Set(input.state ?? []),
    syncAcquire: new Set(input.syncAcquire ?? []),
    reentrant: input.reentrant ?? false,
    exclusive: input.exclusive ?? true,
    keyed: input.keyed ?? false,
  };
}

/** Functions exported by lock libraries that are not constructors. */
export type LockFunction =
  | 'withTimeout' // async-mutex: same lock, bounded wait
  | 'tryAcquire' // async-mutex: same lock, acquire never waits
  | 'lockAll' // deadbolt: takes every lock in its own global order
  | 'runAll'
  | 'file-lock' // proper-lockfile lock(file)
  | 'file-lock-sync'
  | 'file-unlock'
  | 'file-check';

export type PackageExport = { readonly t: 'class'; readonly def: LockDef } | { readonly t: 'fn'; readonly fn: LockFunction };

const deadboltMutex = def({ kind: 'deadbolt', type: 'Mutex', library: 'deadbolt', acquire: { lock: 'guard' }, tryAcquire: { tryLock: 'guard' }, run: { run: 0 }, state: ['isLocked'] });
const deadboltRwLock = def({
  kind: 'deadbolt',
  type: 'RwLock',
  library: 'deadbolt',
  acquire: { read: 'guard', write: 'guard' },
  tryAcquire: { tryRead: 'guard', tryWrite: 'guard' },
  run: { runRead: 0, runWrite: 0 },
  state: ['isWriteLocked', 'readers'],
});
const deadboltSemaphore = def({
  kind: 'deadbolt',
  type: 'Semaphore',
  library: 'deadbolt',
  acquire: { acquire: 'guard' },
  tryAcquire: { tryAcquire: 'guard' },
  run: { run: 0 },
  state: ['available'],
  exclusive: false,
});
const deadboltFileLock = def({ kind: 'deadbolt', type: 'FileLock', library: 'deadbolt/fs', acquire: { lock: 'guard' }, tryAcquire: { tryLock: 'guard' }, run: { run: 0 }, state: ['heldMode'] });
const deadboltStore = def({ kind: 'deadbolt', type: 'Store', library: 'deadbolt/fs', run: { update: 0 } });
const deadboltSharedMutex = def({
  kind: 'deadbolt',
  type: 'SharedMutex',
  library: 'deadbolt/threads',
  acquire: { lock: 'guard', lockSync: 'guard' },
  tryAcquire: { tryLock: 'guard' },
  run: { run: 0 },
  syncAcquire: ['lockSync'],
});

const asyncMutex = def({ kind: 'async-mutex', type: 'Mutex', library: 'async-mutex', acquire: { acquire: 'release-fn' }, run: { runExclusive: 0 }, release: ['release'], state: ['isLocked'] });
const asyncMutexSemaphore = def({
  kind: 'async-mutex',
  type: 'Semaphore',
  library: 'async-mutex',
  acquire: { acquire: 'tuple' },
  run: { runExclusive: 0 },
  release: ['release'],
  state: ['isLocked', 'getValue'],
  exclusive: false,
});
const asyncLock = def({ kind: 'async-lock', type: 'AsyncLock', library: 'async-lock', run: { acquire: 1 }, state: ['isBusy'], keyed: true });
const awaitLock = def({ kind: 'await-lock', type: 'AwaitLock', library: 'await-lock', acquire: { acquireAsync: 'none' }, tryAcquire: { tryAcquire: 'boolean' }, release: ['release'], state: ['acquired'] });
const esfxMutex = def({ kind: 'esfx', type: 'AsyncMutex', library: '@esfx/async-mutex', acquire: { lock: 'handle' }, tryAcquire: { tryLock: 'boolean' }, release: ['unlock'], state: ['isLocked'] });
const esfxRwLock = def({ kind: 'esfx', type: 'AsyncReaderWriterLock', library: '@esfx/async-readerwriterlock', acquire: { read: 'handle', write: 'handle', upgradeableRead: 'handle' } });
const esfxSemaphore = def({ kind: 'esfx', type: 'AsyncSemaphore', library: '@esfx/async-semaphore', acquire: { wait: 'none' }, release: ['release'], exclusive: false });

/** The lock created by proper-lockfile's `lock(file)`: one per locked path. */
export const PROPER_LOCKFILE_DEF = def({ kind: 'proper-lockfile', type: 'lockfile.lock', library: 'proper-lockfile' });
/** A check-then-set boolean field or variable used as a lock. */
export const FLAG_DEF = def({ kind: 'flag', type: 'boolean flag', library: '' });
/** A config-declared wrapper whose implementation the audit cannot see. */
export const WRAPPER_DEF = def({ kind: 'wrapper', type: 'wrapper', library: '' });

/** A hand-rolled promise-chain lock class: its acquire-like and run-like methods. */
export function promiseChainDef(type: string, acquire: readonly string[], run: ReadonlyMap<string, number>): LockDef {
  return def({ kind: 'promise-chain', type, library: '', acquire: Object.fromEntries(acquire.map((m) => [m, 'release-fn' as const])), run: Object.fromEntries(run) });
}

const cls = (d: LockDef): PackageExport => ({ t: 'class', def: d });
const fn = (f: LockFunction): PackageExport => ({ t: 'fn', fn: f });

const deadboltCore: Record<string, PackageExport> = {
  Mutex: cls(deadboltMutex),
  RwLock: cls(deadboltRwLock),
  Semaphore: cls(deadboltSemaphore),
  lockAll: fn('lockAll'),
  runAll: fn('runAll'),
};
const asyncMutexExports: Record<string, PackageExport> = { Mutex: cls(asyncMutex), Semaphore: cls(asyncMutexSemaphore), withTimeout: fn('withTimeout'), tryAcquire: fn('tryAcquire') };
const properLockfile: Record<string, PackageExport> = { lock: fn('file-lock'), lockSync: fn('file-lock-sync'), unlock: fn('file-unlock'), check: fn('file-check') };
const esfxAll: Record<string, PackageExport> = { AsyncMutex: cls(esfxMutex), AsyncReaderWriterLock: cls(esfxRwLock), AsyncSemaphore: cls(esfxSemaphore) };

/**
 * Package -> export name -> what it is. `default` is the ES default export; `module.exports` is
 * what `require()` returns when that is not the namespace object (async-lock exports its class).
 */
const PACKAGES: Record<string, Record<string, PackageExport>> = {
  deadbolt: deadboltCore,
  'deadbolt/fs': { FileLock: cls(deadboltFileLock), Store: cls(deadboltStore) },
  'deadbolt/threads': { SharedMutex: cls(deadboltSharedMutex) },
  'async-mutex': asyncMutexExports,
  'async-lock': { default: cls(asyncLock), 'module.exports': cls(asyncLock), AsyncLock: cls(asyncLock) },
  'await-lock': { default: cls(awaitLock), AwaitLock: cls(awaitLock) },
  'proper-lockfile': properLockfile,
  '@esfx/async-mutex': { AsyncMutex: cls(esfxMutex) },
  '@esfx/async-readerwriterlock': { AsyncReaderWriterLock: cls(esfxRwLock) },
  '@esfx/async-semaphore': { AsyncSemaphore: cls(esfxSemaphore) },
  '@esfx/async': esfxAll,
};

const BLOCKING_MODULES = new Set(['fs', 'crypto', 'zlib', 'child_process']);

/** Node's module name without the `node:` prefix, if it is one whose `*Sync` calls block. */
export function blockingModule(specifier: string): string | null {
  const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
  return BLOCKING_MODULES.has(bare) ? bare : null;
}

/** True for an export of `specifier` that does heavy synchronous work. */
export function isBlockingExport(specifier: string, name: string): boolean {
  if (blockingModule(specifier) !== null) return name.endsWith('Sync');
  return specifier === 'deadbolt/fs' && name === 'writeFileAtomicSync';
}

/** The lock catalogue, extended by the config's lock types. */
export class LockCatalogue {
  readonly #packages = new Map<string, Map<string, PackageExport>>();
  /** Config lock types declared `from: 'file'`: relative path -> export name -> def. */
  readonly fileTypes = new Map<string, Map<string, LockDef>>();

  constructor(extra: readonly LockTypeSpecifier[] = []) {
    for (const [pkg, exports] of Object.entries(PACKAGES)) this.#packages.set(pkg, new Map(Object.entries(exports)));
    for (const spec of extra) {
      const custom = customDef(spec);
      if (spec.from === 'package' && spec.package !== undefined) {
        const table = this.#packages.get(spec.package) ?? new Map<string, PackageExport>();
        table.set(spec.name, cls(custom));
        this.#packages.set(spec.package, table);
      } else if (spec.from === 'file' && spec.path !== undefined) {
        const path = spec.path.replace(/^\.\//, '');
        const table = this.fileTypes.get(path) ?? new Map<string, LockDef>();
        table.set(spec.name, custom);
        this.fileTypes.set(path, table);
      }
    }
  }

  /** What `name` exported by package `specifier` is, or undefined when it is no lock. */
  lookup(specifier: string, name: string): PackageExport | undefined {
    return this.#packages.get(specifier)?.get(name);
  }

  /** Every method or function name that can touch a lock: calls named otherwise need no resolution. */
  methodNames(): Set<string> {
    const names = new Set<string>();
    for (const table of this.#packages.values()) {
      for (const [name, entry] of table) {
        names.add(name);
        if (entry.t !== 'class') continue;
        for (const map of [entry.def.acquire, entry.def.tryAcquire, entry.def.run]) for (const key of map.keys()) names.add(key);
        for (const set of [entry.def.release, entry.def.state]) for (const key of set) names.add(key);
      }
    }
    for (const table of this.fileTypes.values()) {
      for (const def of table.values()) {
        for (const map of [def.acquire, def.tryAcquire, def.run]) for (const key of map.keys()) names.add(key);
        for (const set of [def.release, def.state]) for (const key of set) names.add(key);
      }
    }
    return names;
  }

  /** Every state-reading method or getter name (`isLocked`, `isBusy`, `available`). */
  stateNames(): Set<string> {
    const names = new Set<string>(['check']);
    for (const table of this.#packages.values()) for (const entry of table.values()) if (entry.t === 'class') for (const name of entry.def.state) names.add(name);
    for (const table of this.fileTypes.values()) for (const def of table.values()) for (const name of def.state) names.add(name);
    return names;
  }

  /** True when `specifier` is a known lock package (so its namespace object is worth tracking). */
  knows(specifier: string): boolean {
    return this.#packages.has(specifier);
  }
}

function customDef(spec: LockTypeSpecifier): LockDef {
  const acquire = spec.acquire ?? ['acquire', 'lock'];
  const run = spec.run ?? ['runExclusive', 'run'];
  return def({
    kind: 'custom',
    type: spec.name,
    library: spec.package ?? spec.path ?? '',
    acquire: Object.fromEntries(acquire.map((m) => [m, 'guard' as const])),
    run: Object.fromEntries(run.map((m) => [m, 0])),
    release: spec.release ?? ['release', 'unlock'],
    reentrant: spec.reentrant ?? false,
  });
}
