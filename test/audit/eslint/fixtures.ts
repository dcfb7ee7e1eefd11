/*
 * Code for the ESLint plugin's tests: for every rule, code it must report and code it must leave
 * alone, modelled on the real-world patterns of issue 6 (controllers whose public methods call
 * each other under one mutex, a keyed mutex over caller-ordered keys, a release skipped by an
 * early return, a subscriber notified under a lock, a lease held across long awaits, `using`).
 */
import type { RuleId } from '../../../src/audit/types.js';

export interface RuleFixtures {
  readonly invalid: readonly string[];
  readonly valid: readonly string[];
}

export const FIXTURES: Record<RuleId, RuleFixtures> = {
  'lock-order-inversion': {
    invalid: [
      `import { Mutex } from 'async-mutex';
export class Accounts {
  private readonly ledger = new Mutex();
  private readonly journal = new Mutex();
  async transfer(): Promise<void> {
    await this.ledger.runExclusive(async () => {
      await this.journal.runExclusive(async () => { await Promise.resolve(); });
    });
  }
  async report(): Promise<void> {
    await this.journal.runExclusive(async () => {
      await this.ledger.runExclusive(async () => { await Promise.resolve(); });
    });
  }
}
`,
    ],
    valid: [
      `import { Mutex } from 'async-mutex';
export class Accounts {
  private readonly ledger = new Mutex();
  private readonly journal = new Mutex();
  async transfer(): Promise<void> {
    await this.ledger.runExclusive(async () => {
      await this.journal.runExclusive(async () => { await Promise.resolve(); });
    });
  }
  async report(): Promise<void> {
    await this.ledger.runExclusive(async () => {
      await this.journal.runExclusive(async () => { await Promise.resolve(); });
    });
  }
}
`,
    ],
  },
  'reentrant-acquire': {
    invalid: [
      `import { Mutex } from 'async-mutex';
export class Controller {
  private readonly mutex = new Mutex();
  private state = 0;
  async save(): Promise<void> {
    await this.mutex.runExclusive(async () => { this.state++; });
  }
  async update(): Promise<void> {
    await this.mutex.runExclusive(async () => { await this.save(); });
  }
}
`,
    ],
    valid: [
      `import { Mutex } from 'async-mutex';
export class Controller {
  private readonly mutex = new Mutex();
  private state = 0;
  async save(): Promise<void> {
    await this.mutex.runExclusive(async () => { this.saveLocked(); });
  }
  async update(): Promise<void> {
    await this.mutex.runExclusive(async () => { this.saveLocked(); });
  }
  private saveLocked(): void { this.state++; }
}
`,
    ],
  },
  'unreleased-lock': {
    invalid: [
      `import { Mutex } from 'async-mutex';
const mutex = new Mutex();
const cache = new Map<string, string>();
export async function get(key: string, load: () => Promise<string>): Promise<string> {
  const release = await mutex.acquire();
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = await load();
  cache.set(key, value);
  release();
  return value;
}
`,
    ],
    valid: [
      `import { Mutex } from 'async-mutex';
const mutex = new Mutex();
const cache = new Map<string, string>();
export async function get(key: string, load: () => Promise<string>): Promise<string> {
  const release = await mutex.acquire();
  try {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const value = await load();
    cache.set(key, value);
    return value;
  } finally {
    release();
  }
}
`,
      `import { Mutex } from 'deadbolt';
const mutex = new Mutex({ name: 'cache' });
let count = 0;
export async function bump(): Promise<number> {
  using guard = await mutex.lock();
  count++;
  return count;
}
`,
    ],
  },
  'callback-under-lock': {
    invalid: [
      `import { Mutex } from 'async-mutex';
export class Store {
  private readonly mutex = new Mutex();
  private readonly subscribers: ((value: number) => void)[] = [];
  private value = 0;
  subscribe(fn: (value: number) => void): void { this.subscribers.push(fn); }
  async set(value: number): Promise<void> {
    await this.mutex.runExclusive(() => {
      this.value = value;
      for (const subscriber of this.subscribers) subscriber(value);
    });
  }
}
`,
    ],
    valid: [
      `import { Mutex } from 'async-mutex';
export class Store {
  private readonly mutex = new Mutex();
  private readonly subscribers: ((value: number) => void)[] = [];
  private value = 0;
  subscribe(fn: (value: number) => void): void { this.subscribers.push(fn); }
  async set(value: number): Promise<void> {
    await this.mutex.runExclusive(() => { this.value = value; });
    for (const subscriber of this.subscribers) subscriber(value);
  }
}
`,
    ],
  },
  'blocking-under-lock': {
    invalid: [
      `import { readFileSync } from 'node:fs';
import { Mutex } from 'async-mutex';
const lock = new Mutex();
let cached = '';
export async function reload(path: string): Promise<string> {
  return lock.runExclusive(() => {
    cached = readFileSync(path, 'utf8');
    return cached;
  });
}
`,
    ],
    valid: [
      `import { readFile } from 'node:fs/promises';
import { Mutex } from 'async-mutex';
const lock = new Mutex();
let cached = '';
export async function reload(path: string): Promise<string> {
  return lock.runExclusive(async () => {
    cached = await readFile(path, 'utf8');
    return cached;
  });
}
`,
      // A lease held across long awaits on purpose: no blocking call under it.
      `import { Mutex } from 'async-mutex';
const lease = new Mutex();
export async function leader(work: () => Promise<void>, stop: AbortSignal): Promise<void> {
  await lease.runExclusive(async () => {
    while (!stop.aborted) {
      await work();
      await new Promise((resolve) => setTimeout(resolve, 30_000));
    }
  });
}
`,
    ],
  },
  'unawaited-lock-promise': {
    invalid: [
      `import { Mutex } from 'async-mutex';
const lock = new Mutex();
let busy = false;
export async function run(work: () => Promise<number>): Promise<number> {
  busy = true;
  try {
    return lock.runExclusive(work);
  } finally {
    busy = false;
  }
}
`,
    ],
    valid: [
      `import { Mutex } from 'async-mutex';
const lock = new Mutex();
let busy = false;
export async function run(work: () => Promise<number>): Promise<number> {
  busy = true;
  try {
    return await lock.runExclusive(work);
  } finally {
    busy = false;
  }
}
`,
    ],
  },
  'check-then-acquire': {
    invalid: [
      `import { Mutex } from 'async-mutex';
const mutex = new Mutex();
export async function maybeFlush(flush: () => Promise<void>): Promise<void> {
  if (!mutex.isLocked()) {
    const release = await mutex.acquire();
    try {
      await flush();
    } finally {
      release();
    }
  }
}
`,
    ],
    valid: [
      `import { Mutex, tryAcquire, E_ALREADY_LOCKED } from 'async-mutex';
const mutex = new Mutex();
export async function maybeFlush(flush: () => Promise<void>): Promise<void> {
  try {
    await tryAcquire(mutex).runExclusive(flush);
  } catch (error) {
    if (error !== E_ALREADY_LOCKED) throw error;
  }
}
`,
    ],
  },
  'multi-lock-unordered': {
    invalid: [
      `import { Mutex } from 'async-mutex';
const locks: Record<string, Mutex> = {};
const lockFor = (key: string): Mutex => (locks[key] ??= new Mutex());
export async function withKeys(keys: string[], work: () => Promise<void>): Promise<void> {
  const releases = await Promise.all(keys.map((key) => lockFor(key).acquire()));
  try {
    await work();
  } finally {
    for (const release of releases) release();
  }
}
`,
    ],
    valid: [
      `import { Mutex } from 'async-mutex';
const locks: Record<string, Mutex> = {};
const lockFor = (key: string): Mutex => (locks[key] ??= new Mutex());
export async function withKeys(keys: string[], work: () => Promise<void>): Promise<void> {
  const releases: (() => void)[] = [];
  try {
    for (const key of [...new Set(keys)].sort()) releases.push(await lockFor(key).acquire());
    await work();
  } finally {
    for (const release of releases.reverse()) release();
  }
}
`,
    ],
  },
};
