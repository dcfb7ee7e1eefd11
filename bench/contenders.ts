/**
 * The contenders and the code each one runs. Every loop is written out per contender (no shared
 * `op()` adapter) so that what is timed is the idiomatic call sequence of each library and nothing
 * else. This module is loaded by the worker (bench/worker.ts), one contender per process.
 */

/** deadbolt's public API, typed from the sources; at run time the worker loads the built dist/index.js. */
type Deadbolt = typeof import('../src/index.js');

export const CONTENDER_IDS = ['deadbolt-fast', 'deadbolt-checked', 'async-mutex', 'async-mutex-sem', 'async-lock', 'await-lock', 'floor', 'floor-object', 'floor-hooked'] as const;
export type ContenderId = (typeof CONTENDER_IDS)[number];

export const SCENARIOS = ['uncontended', 'contended'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface ContenderInfo {
  readonly id: ContenderId;
  readonly label: string;
  /** DEADBOLT_CHECKS for the child process. Only deadbolt-checked runs with checks on. */
  readonly checks: 'on' | 'off';
  /** One op, as timed in the uncontended scenario. */
  readonly uncontendedOp: string;
}

export const CONTENDERS: readonly ContenderInfo[] = [
  { id: 'deadbolt-fast', label: 'deadbolt Mutex (fast)', checks: 'off', uncontendedOp: 'const g = await m.lock(); g.release();' },
  { id: 'deadbolt-checked', label: 'deadbolt Mutex (checked)', checks: 'on', uncontendedOp: 'const g = await m.lock(); g.release();' },
  { id: 'async-mutex', label: 'async-mutex Mutex', checks: 'off', uncontendedOp: 'const release = await m.acquire(); release();' },
  { id: 'async-mutex-sem', label: 'async-mutex Semaphore(1)', checks: 'off', uncontendedOp: 'const [, release] = await s.acquire(); release();' },
  { id: 'async-lock', label: 'async-lock', checks: 'off', uncontendedOp: "await lock.acquire('k', () => undefined);" },
  { id: 'await-lock', label: 'await-lock', checks: 'off', uncontendedOp: 'await l.acquireAsync(); l.release();' },
  { id: 'floor', label: 'floor (bare `await null`)', checks: 'off', uncontendedOp: 'await null;' },
  { id: 'floor-object', label: 'floor, resolving an object', checks: 'off', uncontendedOp: 'await Promise.resolve(guardLike); (one preallocated object, no lock)' },
  { id: 'floor-hooked', label: 'floor, checked-mode hook on', checks: 'on', uncontendedOp: 'await null; (deadbolt loaded in checked mode)' },
];

export interface Subject {
  /** `n` acquire+release pairs in one async loop. */
  uncontended(n: number): Promise<void>;
  /** `flows` concurrent async flows, each doing `ops` x (acquire, `await null`, release) on one lock. */
  contended(flows: number, ops: number): Promise<void>;
  /** Untimed: runs `body` holding the lock (used only for the mutual-exclusion sanity check). */
  critical(body: () => Promise<void>): Promise<void>;
  /** Untimed: the mode the library reports, for the sanity check ('n/a' for peers). */
  mode(): string;
}

/** Starts `flows` copies of `flow` at once and waits for all of them. */
function all(flows: number, flow: () => Promise<void>): Promise<void[]> {
  const running: Promise<void>[] = [];
  for (let f = 0; f < flows; f++) running.push(flow());
  return Promise.all(running);
}

async function deadbolt(distUrl: string): Promise<Subject> {
  const { Mutex, getConfig } = (await import(distUrl)) as Deadbolt;
  const m = new Mutex();
  return {
    async uncontended(n) {
      for (let i = 0; i < n; i++) {
        const g = await m.lock();
        g.release();
      }
    },
    async contended(flows, ops) {
      await all(flows, async () => {
        for (let i = 0; i < ops; i++) {
          const g = await m.lock();
          await null;
          g.release();
        }
      });
    },
    async critical(body) {
      const g = await m.lock();
      try {
        await body();
      } finally {
        g.release();
      }
    },
    mode: () => (getConfig().checks ? 'checked' : 'fast'),
  };
}

async function asyncMutex(): Promise<Subject> {
  const { Mutex } = await import('async-mutex');
  const m = new Mutex();
  return {
    async uncontended(n) {
      for (let i = 0; i < n; i++) {
        const release = await m.acquire();
        release();
      }
    },
    async contended(flows, ops) {
      await all(flows, async () => {
        for (let i = 0; i < ops; i++) {
          const release = await m.acquire();
          await null;
          release();
        }
      });
    },
    async critical(body) {
      const release = await m.acquire();
      try {
        await body();
      } finally {
        release();
      }
    },
    mode: () => 'n/a',
  };
}

async function asyncMutexSemaphore(): Promise<Subject> {
  const { Semaphore } = await import('async-mutex');
  const s = new Semaphore(1);
  return {
    async uncontended(n) {
      for (let i = 0; i < n; i++) {
        const [, release] = await s.acquire();
        release();
      }
    },
    async contended(flows, ops) {
      await all(flows, async () => {
        for (let i = 0; i < ops; i++) {
          const [, release] = await s.acquire();
          await null;
          release();
        }
      });
    },
    async critical(body) {
      const [, release] = await s.acquire();
      try {
        await body();
      } finally {
        release();
      }
    },
    mode: () => 'n/a',
  };
}

async function asyncLock(): Promise<Subject> {
  const { default: AsyncLock } = await import('async-lock');
  // maxPending defaults to 1000 waiters per key; the contended scenario queues at most flows - 1.
  const lock = new AsyncLock();
  return {
    async uncontended(n) {
      for (let i = 0; i < n; i++) {
        await lock.acquire('k', () => undefined);
      }
    },
    async contended(flows, ops) {
      await all(flows, async () => {
        for (let i = 0; i < ops; i++) {
          await lock.acquire('k', async () => {
            await null;
          });
        }
      });
    },
    async critical(body) {
      await lock.acquire('k', body);
    },
    mode: () => 'n/a',
  };
}

async function awaitLock(): Promise<Subject> {
  const { default: AwaitLock } = await import('await-lock');
  const l = new AwaitLock();
  return {
    async uncontended(n) {
      for (let i = 0; i < n; i++) {
        await l.acquireAsync();
        l.release();
      }
    },
    async contended(flows, ops) {
      await all(flows, async () => {
        for (let i = 0; i < ops; i++) {
          await l.acquireAsync();
          await null;
          l.release();
        }
      });
    },
    async critical(body) {
      await l.acquireAsync();
      try {
        await body();
      } finally {
        l.release();
      }
    },
    mode: () => 'n/a',
  };
}

/**
 * The floor: the same loops with the lock taken out. Uncontended, one op is a bare `await null`
 * (standing in for `await lock()`); contended, one op is the critical section's `await null` with
 * no lock around it. It excludes nothing, so it has no `critical`.
 */
function floor(): Subject {
  return {
    async uncontended(n) {
      for (let i = 0; i < n; i++) {
        await null;
      }
    },
    async contended(flows, ops) {
      await all(flows, async () => {
        for (let i = 0; i < ops; i++) {
          await null;
        }
      });
    },
    critical() {
      return Promise.reject(new Error('the floor takes no lock'));
    },
    mode: () => 'n/a',
  };
}

/**
 * The floor of any lock whose acquire resolves with an object (a guard), as deadbolt's does:
 * `await Promise.resolve(obj)` with one preallocated object, no allocation, no lock. V8 looks up
 * `then` on every object a promise resolves with (it skips the lookup only for promises,
 * primitives and iterator results), which await-lock avoids by resolving with `undefined`.
 */
function floorObject(): Subject {
  const guardLike = { then: undefined, release(): void {} };
  return {
    ...floor(),
    async uncontended(n) {
      for (let i = 0; i < n; i++) {
        await Promise.resolve(guardLike);
      }
    },
    async contended(flows, ops) {
      await all(flows, async () => {
        for (let i = 0; i < ops; i++) {
          await Promise.resolve(guardLike);
          await null;
        }
      });
    },
  };
}

/**
 * The floor in a process where deadbolt runs in checked mode: the same loops, no lock. It shows
 * what the flow-tracking hook alone costs every promise, apart from deadbolt's own work.
 */
async function floorHooked(distUrl: string): Promise<Subject> {
  const { getConfig } = (await import(distUrl)) as Deadbolt;
  return { ...floor(), mode: () => (getConfig().checks ? 'checked' : 'fast') };
}

export async function loadSubject(id: ContenderId, distUrl: string): Promise<Subject> {
  switch (id) {
    case 'deadbolt-fast':
    case 'deadbolt-checked':
      return deadbolt(distUrl);
    case 'async-mutex':
      return asyncMutex();
    case 'async-mutex-sem':
      return asyncMutexSemaphore();
    case 'async-lock':
      return asyncLock();
    case 'await-lock':
      return awaitLock();
    case 'floor':
      return floor();
    case 'floor-object':
      return floorObject();
    case 'floor-hooked':
      return floorHooked(distUrl);
  }
}
