import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Mutex } from '../../src/index.js';
import { checkedMode, fastMode, inOtherFlow, sleep } from '../support/helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Live heap after full collections. V8 sweeps concurrently, so dead large objects can still be
 * counted right after gc(): collect, let the sweeper finish, and collect again.
 */
async function heapUsed(): Promise<number> {
  gc();
  await sleep(50);
  gc();
  await sleep(50);
  gc();
  return process.memoryUsage().heapUsed;
}

const WAITERS = 100_000;

for (const mode of ['fast', 'checked'] as const) {
  describe(`100,000 abandoned waiters (${mode} mode)`, () => {
    beforeEach(() => (mode === 'fast' ? fastMode() : checkedMode()));

    for (const how of ['timeout', 'abort'] as const) {
      it(`waiters removed by ${how} keep no memory and do not slow the next release`, async () => {
        const mutex = new Mutex({ name: `abandoned-${mode}-${how}` });
        const holder = await mutex.lock();
        const abandonAll = (): Promise<number> =>
          inOtherFlow(async () => {
            const controller = new AbortController();
            let count = 0;
            const countRejection = (): void => {
              count++;
            };
            const waiters: Promise<unknown>[] = [];
            for (let i = 0; i < WAITERS; i++) waiters.push(mutex.lock(how === 'timeout' ? { timeout: 1 } : { signal: controller.signal }).catch(countRejection));
            assert.equal(mutex.waiting, WAITERS);
            if (how === 'abort') controller.abort(new Error('stop'));
            await Promise.all(waiters);
            return count;
          });
        // A first round warms the process up (JIT code, feedback, heap sizing). Two more must not
        // grow the heap: a leak of even 50 bytes a waiter would add 10 MB.
        assert.equal(await abandonAll(), WAITERS);
        const before = await heapUsed();
        for (let round = 0; round < 2; round++) assert.equal(await abandonAll(), WAITERS);
        assert.equal(mutex.waiting, 0);
        await sleep(5);
        const grown = (await heapUsed()) - before;
        assert.ok(grown < 3 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MB over 200,000 abandoned waiters`);
        // The next releases find an empty queue: each hands the lock to a fresh waiter at once.
        const handoffs: number[] = [];
        let current = holder;
        for (let i = 0; i < 21; i++) {
          const next = inOtherFlow(() => mutex.lock());
          const started = performance.now();
          current.release();
          current = await next;
          handoffs.push(performance.now() - started);
        }
        current.release();
        handoffs.sort((a, b) => a - b);
        const median = handoffs[10] as number;
        assert.ok(median < 1, `median hand-off took ${median.toFixed(3)} ms`);
      });
    }
  });
}
