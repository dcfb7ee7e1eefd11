import assert from 'node:assert/strict';
import { readFile } from 'node:fs';
import { readFile as readFileAsync } from 'node:fs/promises';
import { beforeEach, describe, it } from 'node:test';
import { AcqState } from '../../src/discipline/acquisition.js';
import { currentContext } from '../../src/discipline/flow.js';
import { DeadlockError, detached, lockGraph, LockOrderError, Mutex, RwLock, Semaphore } from '../../src/index.js';
import { checkedMode, inOtherFlow, rejectionOf, settle, sleep, uniqueName } from '../support/helpers.js';

/** How many acquisitions the running flow's context still holds (released ones excluded). */
function heldHere(): number {
  let count = 0;
  for (let node = currentContext(); node; node = node.parent) if (node.acq.state === AcqState.Held) count++;
  return count;
}

function contextLength(): number {
  let length = 0;
  for (let node = currentContext(); node; node = node.parent) length++;
  return length;
}

describe('no false positives on common code (checked mode)', () => {
  beforeEach(checkedMode);

  it('Promise.all siblings with per-item locks of one class never see each other', async () => {
    const itemClass = uniqueName('item');
    const index = new Mutex({ name: uniqueName('index') });
    const items = Array.from({ length: 50 }, () => new Mutex({ name: itemClass }));
    let inIndex = 0;
    await Promise.all(
      items.map(async (item, i) => {
        const guard = await item.lock();
        try {
          assert.equal(heldHere(), 1, 'a child holds exactly its own item');
          await sleep(i % 3);
          await index.run(async () => {
            inIndex++;
            assert.equal(inIndex, 1);
            await null;
            inIndex--;
          });
        } finally {
          guard.release();
        }
      }),
    );
    const edges = lockGraph().edges;
    assert.ok(edges.some((edge) => edge.from === itemClass && edge.to === index.name));
    assert.ok(!edges.some((edge) => edge.from === itemClass && edge.to === itemClass));
    assert.equal(heldHere(), 0, 'the parent holds nothing after Promise.all');
  });

  it('a sibling that holds an item does not leak it into a sibling that takes another item', async () => {
    const itemClass = uniqueName('sib');
    const [a, b] = [new Mutex({ name: itemClass }), new Mutex({ name: itemClass })];
    const results = await Promise.allSettled([
      a.run(async () => {
        await sleep(10);
        return 'a';
      }),
      (async () => {
        await sleep(2);
        return b.run(() => 'b');
      })(),
    ]);
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled'],
    );
  });

  it('continuations after timers, immediates and microtasks keep the held set', async () => {
    const low = new Mutex({ name: uniqueName('low'), rank: 10 });
    const high = new Mutex({ name: uniqueName('high'), rank: 20 });
    const guard = await high.lock();
    await sleep(5);
    assert.equal(heldHere(), 1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    assert.equal(heldHere(), 1);
    const error = await rejectionOf(low.lock());
    assert.ok(error instanceof LockOrderError && error.kind === 'rank', 'the flow still holds the high lock');
    guard.release();
    assert.equal(heldHere(), 0);
    (await low.lock()).release();
  });

  it('continuations after I/O keep the held set (promise and callback APIs)', async () => {
    const mutex = new Mutex({ name: uniqueName('io') });
    const guard = await mutex.lock();
    await readFileAsync(new URL(import.meta.url));
    assert.equal(heldHere(), 1);
    assert.ok((await rejectionOf(mutex.lock())) instanceof DeadlockError);
    const inCallback = await new Promise<number>((resolve) => readFile(new URL(import.meta.url), () => resolve(heldHere())));
    assert.equal(inCallback, 1);
    guard.release();
  });

  it('a lock handed from one request to the next (independent flows) raises nothing', async () => {
    const mutex = new Mutex({ name: uniqueName('handoff') });
    const served: number[] = [];
    const handle = (id: number): Promise<void> =>
      inOtherFlow(async () => {
        const guard = await mutex.lock({ timeout: 2_000 });
        try {
          await sleep(1);
          served.push(id);
        } finally {
          guard.release();
        }
      });
    await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(handle));
    assert.deepEqual(served, [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('a guard released by another flow (a timer callback) is released for everyone', async () => {
    const mutex = new Mutex({ name: uniqueName('timer-release') });
    const guard = await mutex.lock();
    setTimeout(() => guard.release(), 5);
    const next = await inOtherFlow(() => mutex.lock({ timeout: 1_000 }));
    next.release();
    assert.equal(heldHere(), 0);
  });

  it('try-lock probes with release-and-retry raise nothing', async () => {
    const a = new Mutex({ name: uniqueName('probeA') });
    const b = new Mutex({ name: uniqueName('probeB') });
    const both = async (first: Mutex, second: Mutex): Promise<number> => {
      for (let attempt = 1; ; attempt++) {
        const g1 = await first.lock();
        const g2 = second.tryLock();
        if (g2 !== null) {
          await sleep(1);
          g2.release();
          g1.release();
          return attempt;
        }
        g1.release();
        await sleep(attempt % 3);
      }
    };
    const attempts = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? both(a, b) : both(b, a))));
    assert.ok(attempts.every((count) => count >= 1));
  });

  it('a flow that locks in a loop keeps a compact context', async () => {
    const mutex = new Mutex({ name: uniqueName('loop') });
    const rw = new RwLock({ name: uniqueName('loop-rw') });
    const pool = new Semaphore(3, { name: uniqueName('loop-sem') });
    for (let i = 0; i < 5_000; i++) {
      const guard = await mutex.lock();
      guard.release();
      (await rw.read()).release();
      (await pool.acquire(2)).release();
    }
    const held = await mutex.lock();
    assert.ok(contextLength() <= 2, `context length ${contextLength()}`);
    held.release();
  });

  it('work started with detached() does not inherit the caller held set', async () => {
    const mutex = new Mutex({ name: uniqueName('detached') });
    const guard = await mutex.lock();
    const later = detached(() => mutex.lock({ timeout: 1_000 }));
    await settle();
    guard.release();
    (await later).release();
  });

  it('sequential locks of different classes, released in between, teach no edge', async () => {
    const a = new Mutex({ name: uniqueName('seqA') });
    const b = new Mutex({ name: uniqueName('seqB') });
    await a.run(() => undefined);
    await b.run(() => undefined);
    await b.run(() => undefined);
    await a.run(() => undefined);
    assert.deepEqual(
      lockGraph().edges.filter((edge) => [a.name, b.name].includes(edge.from)),
      [],
    );
  });
});
