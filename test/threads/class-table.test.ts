// The shared class table: a lock class's name and rank live in the arena, so a worker that
// creates its own lock of a class the main thread declared gets the same rank (and breaks the
// order exactly as the main thread would), and a worker that declares another rank is refused.
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { after, describe, it } from 'node:test';
import { SharedMutex, SharedSemaphore, threadsContext } from '../../dist/threads.js';
import { checkedMode, uniqueName, within } from './fixtures/harness.js';

const threadsUrl = new URL('../../dist/threads.js', import.meta.url).href;
const indexUrl = new URL('../../dist/index.js', import.meta.url).href;
const started: Worker[] = [];
after(() => Promise.all(started.map((worker) => worker.terminate())));

/** Runs `body` (an async function's source, given `threads`, `core` and `data`) in a worker that joined this thread's arena. */
function inWorker(body: string, data: unknown): Promise<unknown> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const threads = await import(${JSON.stringify(threadsUrl)});
      const core = await import(${JSON.stringify(indexUrl)});
      core.configure({ checks: true, warnings: false, onPotentialDeadlock: 'throw' });
      threads.joinThreads(workerData.context);
      const data = workerData.data;
      try {
        parentPort.postMessage({ ok: true, value: await (async () => { ${body} })() });
      } catch (error) {
        parentPort.postMessage({ ok: false, name: error.name, code: error.code, kind: error.kind, message: error.message });
      }
    })();`;
  const worker = new Worker(source, { eval: true, workerData: { context: threadsContext(), data } });
  started.push(worker);
  return within(
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    }),
    10_000,
    () => 'the worker did not answer',
  );
}

describe('shared class table', { timeout: 20_000 }, () => {
  it('a worker creating a lock of a class declared in the main thread gets its rank, and the rank is enforced there', async () => {
    checkedMode();
    const high = uniqueName('high');
    const low = uniqueName('low');
    new SharedMutex({ name: high, rank: 20 });
    new SharedMutex({ name: low, rank: 10 });
    const result = await inWorker(
      `const a = new threads.SharedMutex({ name: data.high });
       const b = new threads.SharedMutex({ name: data.low });
       const held = await a.lock();
       try { await b.lock({ timeout: 1000 }); return 'granted'; } finally { held.release(); }`,
      { high, low },
    );
    assert.deepEqual(result, { ok: false, name: 'LockOrderError', code: 'ERR_LOCK_ORDER', kind: 'rank', message: (result as { message: string }).message });
    assert.match((result as { message: string }).message, new RegExp(`${high}.*20|rank 20`));
  });

  it('a worker declaring another rank for a shared class is refused, naming the class and both ranks', async () => {
    const name = uniqueName('ranked');
    new SharedMutex({ name, rank: 5 });
    const result = (await inWorker(`new threads.SharedSemaphore(2, { name: data.name, rank: 7 }); return 'created';`, { name })) as { ok: boolean; name: string; message: string };
    assert.equal(result.ok, false);
    assert.equal(result.name, 'TypeError');
    assert.match(result.message, new RegExp(`lock class "${name}" already has rank 5.*declares rank 7`));
  });

  it('a class registered first in a worker is seen by the main thread, with its rank', async () => {
    const name = uniqueName('from-worker');
    const result = await inWorker(`const s = new threads.SharedSemaphore(3, { name: data.name, rank: 42 }); return s.handle.rank;`, { name });
    assert.deepEqual(result, { ok: true, value: 42 });
    assert.throws(() => new SharedMutex({ name, rank: 1 }), /already has rank 42/);
    const adopted = new SharedSemaphore(1, { name });
    assert.equal(adopted.handle.rank, 42);
  });

  it('reports name shared locks by their class name in every thread', async () => {
    const name = uniqueName('named');
    const mutex = new SharedMutex({ name });
    const held = await mutex.lock();
    const result = (await inWorker(`const m = threads.SharedMutex.from(data.handle); try { m.lockSync({ timeout: 20 }); return 'granted'; } catch (e) { throw e; }`, { handle: mutex.handle })) as { code: string; message: string };
    held.release();
    assert.equal(result.code, 'ERR_LOCK_TIMEOUT');
    assert.match(result.message, new RegExp(`SharedMutex "${name}"`));
  });

  it('a name longer than the table can hold is refused with the limit', () => {
    assert.throws(() => new SharedMutex({ name: 'x'.repeat(200) }), /at most 128 bytes/);
  });
});
