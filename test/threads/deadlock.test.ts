// Cross-thread deadlock detection with real worker threads. Each worker runs its steps in one
// flow, so a lock it takes after another is a wait "while holding", published in the arena. The
// workers first take their own locks and signal it through flags in a SharedArrayBuffer; the one
// meant to close the cycle waits a further 40 ms before its request, so its wait begins last and
// it is the victim: it gets DeadlockError at once, gives its locks up, and the others complete.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DeadlockError } from '../../dist/index.js';
import { SharedMutex } from '../../dist/threads.js';
import { Flags, checkedMode, fastMode, inOtherFlow, rejectionOf, sleep, startWorker, stopWorkers, uniqueName, type ScriptedWorker, type Step, type StepResult } from './fixtures/harness.js';

after(stopWorkers);

/** The victim must be told this soon after its wait begins (typically well under 5 ms). */
const DETECT_WITHIN_MS = 50;
/** The waits are bounded, far beyond any detection time: nothing may time out. */
const WAIT = 10_000;
/** How much later than the previous one each next request of a cycle is made. */
const STAGGER_MS = 40;

type Style = 'async' | 'sync';

function lockStep(style: Style, m: number, timeout?: number): Step {
  return { op: style === 'sync' ? 'lockSync' : 'lock', m, ...(timeout === undefined ? {} : { timeout }) };
}

function assertDeadlock(result: StepResult, who: string): void {
  assert.equal(result.ok, false, `${who} should have been refused, but got the lock after ${result.elapsed.toFixed(1)} ms`);
  assert.equal(result.error?.name, 'DeadlockError', `${who}: ${result.error?.name}: ${result.error?.message}`);
  assert.equal(result.error?.code, 'ERR_DEADLOCK');
  assert.ok(result.elapsed < DETECT_WITHIN_MS, `${who} was told after ${result.elapsed.toFixed(1)} ms`);
}

function assertGranted(result: StepResult, who: string): void {
  assert.ok(result.ok, `${who} should have got the lock: ${result.error?.name}: ${result.error?.message}`);
}

function assertAllOk(results: readonly StepResult[], who: string, except: readonly number[] = []): void {
  for (const result of results) if (!except.includes(result.index)) assert.ok(result.ok, `${who} step ${result.index} (${result.op}): ${result.error?.name}: ${result.error?.message}`);
}

/**
 * A wait-for cycle among workers: worker i takes lock i, then (once all hold theirs, and
 * i * STAGGER_MS later) requests lock i + 1 (mod n). Resolves with each worker's results and
 * the index of the request step.
 */
async function cycle(styles: readonly Style[], checks: boolean): Promise<{ workers: ScriptedWorker[]; results: StepResult[][]; names: string[]; request: number }> {
  const n = styles.length;
  const names = styles.map(() => uniqueName('cycle'));
  const mutexes = names.map((name) => new SharedMutex({ name }));
  const control = new Flags();
  const holds = styles.map(() => control.flag());
  // 0: take own lock, 1: signal, 2..n+1: wait until every worker holds its lock, n+2: stagger, n+3: request.
  const request = n + 3;
  const workers = styles.map((style, i) => {
    const sync = style === 'sync';
    const steps: Step[] = [
      lockStep(style, i),
      { op: 'signal', flag: holds[i] as number },
      ...holds.map((flag): Step => ({ op: 'await', flag, sync })),
      { op: 'sleep', ms: i * STAGGER_MS, sync },
      lockStep(style, (i + 1) % n, WAIT),
      { op: 'releaseAll' },
    ];
    assert.equal(steps[request]?.op, lockStep(style, 0).op);
    return startWorker(steps, mutexes, { checks, control });
  });
  const results = await Promise.all(workers.map((worker) => worker.finish()));
  return { workers, results, names, request };
}

describe('cross-thread deadlock detection', { timeout: 25_000 }, () => {
  const variants: readonly (readonly [string, readonly Style[], boolean])[] = [
    ['async lock() in both workers, checked mode', ['async', 'async'], true],
    ['lockSync() in both workers, checked mode', ['sync', 'sync'], true],
    ['lockSync() in both workers, fast mode', ['sync', 'sync'], false],
    ['async lock() first, lockSync() closing the cycle', ['async', 'sync'], true],
    ['lockSync() first, async lock() closing the cycle', ['sync', 'async'], true],
  ];
  for (const [title, styles, checks] of variants) {
    it(`AB/BA between two workers: ${title}: exactly one DeadlockError, in the thread that waited last`, async () => {
      const { workers, results, names, request } = await cycle(styles, checks);
      const [first, second] = results as [StepResult[], StepResult[]];
      // The victim closed the cycle: its wait began last.
      assertDeadlock(second[request] as StepResult, 'the second waiter');
      assertAllOk(second, 'the second waiter', [request]);
      // The other one got its lock once the victim let go, and nothing else failed.
      assertGranted(first[request] as StepResult, 'the first waiter');
      assertAllOk(first, 'the first waiter');
      const report = second[request]?.error?.report ?? '';
      assert.match(report, /Cross-thread wait-for cycle/);
      for (const worker of workers) assert.match(report, new RegExp(`thread ${worker.threadId}\\b`));
      for (const name of names) assert.ok(report.includes(name), `the report names ${name}:\n${report}`);
    });
  }

  for (const style of ['lock', 'lockSync'] as const) {
    it(`AB/BA requested at the same instant (${style}): exactly one DeadlockError, the other gets its lock`, async () => {
      const [a, b] = [new SharedMutex({ name: uniqueName('same-a') }), new SharedMutex({ name: uniqueName('same-b') })];
      const control = new Flags();
      const holds = [control.flag(), control.flag()] as const;
      const go = control.flag();
      const workers = [0, 1].map((i) =>
        startWorker(
          // Both block in Atomics.wait on `go` and are woken together by one notify.
          [{ op: style, m: i }, { op: 'signal', flag: holds[i] as number }, { op: 'await', flag: go, sync: true }, { op: style, m: 1 - i, timeout: WAIT }, { op: 'releaseAll' }],
          [a, b],
          { checks: true, control },
        ),
      );
      await control.wait(holds[0]);
      await control.wait(holds[1]);
      control.signal(go);
      const results = await Promise.all(workers.map((worker) => worker.finish()));
      const requests = results.map((steps) => steps[3] as StepResult);
      const refused = requests.filter((request) => !request.ok);
      assert.equal(refused.length, 1, `exactly one refused: ${JSON.stringify(requests.map((request) => request.error?.name ?? 'ok'))}`);
      assertDeadlock(refused[0] as StepResult, 'the victim');
      assertGranted(requests.find((request) => request.ok) as StepResult, 'the other one');
    });
  }

  it('a cycle of three workers (A->B->C->A): only the last waiter is refused, the others complete', async () => {
    const { results, request } = await cycle(['async', 'sync', 'async'], true);
    const [w1, w2, w3] = results as [StepResult[], StepResult[], StepResult[]];
    assertDeadlock(w3[request] as StepResult, 'the third waiter');
    assertAllOk(w3, 'the third waiter', [request]);
    assertAllOk(w1, 'the first waiter');
    assertAllOk(w2, 'the second waiter');
  });

  it('the main thread closing a cycle with a worker gets DeadlockError; the worker then gets its lock', async () => {
    checkedMode();
    const a = new SharedMutex({ name: uniqueName('main-a') });
    const b = new SharedMutex({ name: uniqueName('main-b') });
    const control = new Flags();
    const mainHolds = control.flag();
    const workerHolds = control.flag();
    const worker = startWorker(
      [{ op: 'lock', m: 1 }, { op: 'signal', flag: workerHolds }, { op: 'await', flag: mainHolds }, { op: 'lock', m: 0, timeout: WAIT }, { op: 'releaseAll' }],
      [a, b],
      { checks: true, control },
    );
    const guard = await a.lock();
    control.signal(mainHolds);
    await control.wait(workerHolds);
    await worker.step(2);
    await sleep(STAGGER_MS);
    const started = performance.now();
    const error = await rejectionOf(b.lock({ timeout: WAIT }));
    const elapsed = performance.now() - started;
    assert.ok(error instanceof DeadlockError, String(error));
    assert.ok(elapsed < DETECT_WITHIN_MS, `told after ${elapsed.toFixed(1)} ms`);
    assert.match(error.report, new RegExp(`thread ${worker.threadId}\\b`));
    assert.match(error.report, /\(this thread\)/);
    guard.release();
    const results = await worker.finish();
    assertAllOk(results, 'the worker');
  });

  it('no false positive: a worker waits for a lock whose holder (another worker) is not waiting', async () => {
    checkedMode();
    const [a, b] = [new SharedMutex({ name: uniqueName('fp-a') }), new SharedMutex({ name: uniqueName('fp-b') })];
    const control = new Flags();
    const bHeld = control.flag();
    const waiterReady = control.flag();
    // The holder keeps B for 100 ms from the moment the waiter is about to request it, however
    // slowly either worker starts.
    const holder = startWorker([{ op: 'lock', m: 1 }, { op: 'signal', flag: bHeld }, { op: 'await', flag: waiterReady }, { op: 'sleep', ms: 100 }, { op: 'releaseAll' }], [a, b], { checks: true, control });
    const waiter = startWorker([{ op: 'lock', m: 0 }, { op: 'await', flag: bHeld }, { op: 'signal', flag: waiterReady }, { op: 'lock', m: 1, timeout: WAIT }, { op: 'releaseAll' }], [a, b], { checks: true, control });
    const [held, waited] = await Promise.all([holder.finish(), waiter.finish()]);
    assertAllOk(held, 'the holder');
    assertAllOk(waited, 'the waiter');
    assert.ok((waited[3] as StepResult).elapsed > 50, 'the waiter really waited for the holder');
  });

  it('no false positive: a chain of waits across three threads that ends in a holder that is not waiting', async () => {
    checkedMode();
    const [a, b, c] = [uniqueName('chain-a'), uniqueName('chain-b'), uniqueName('chain-c')].map((name) => new SharedMutex({ name })) as [SharedMutex, SharedMutex, SharedMutex];
    const control = new Flags();
    const bHeld = control.flag();
    const mainHoldsC = control.flag();
    const guard = await c.lock();
    control.signal(mainHoldsC);
    // w2 holds B and waits for C (held by this thread, which is not waiting); w1 holds A and waits for B.
    const w2 = startWorker([{ op: 'lock', m: 1 }, { op: 'signal', flag: bHeld }, { op: 'await', flag: mainHoldsC }, { op: 'lock', m: 2, timeout: WAIT }, { op: 'releaseAll' }], [a, b, c], { checks: true, control });
    const w1 = startWorker([{ op: 'lock', m: 0 }, { op: 'await', flag: bHeld }, { op: 'lock', m: 1, timeout: WAIT }, { op: 'releaseAll' }], [a, b, c], { checks: true, control });
    await Promise.all([w2.step(2), w1.step(1)]);
    // Both now wait (w1 behind w2, w2 behind this thread). Nobody may be refused meanwhile.
    await sleep(100);
    guard.release();
    const [r2, r1] = await Promise.all([w2.finish(), w1.finish()]);
    assertAllOk(r2, 'w2');
    assertAllOk(r1, 'w1');
  });

  // A cycle through both halves of a SharedMutex: flow 2 holds C and waits for B (a worker's), the
  // worker holds B and waits for A, and flow 1 holds A and queues for C behind flow 2 in this
  // thread's FIFO. Flow 1 waits while holding a shared lock, so its queued wait is published too:
  // one of the three is told (flow 1, whose wait began last); nobody waits for a timeout.
  it('a cycle through this thread\'s FIFO of a SharedMutex and a worker is detected', async () => {
    checkedMode();
    const [a, b, c] = [uniqueName('mixed-a'), uniqueName('mixed-b'), uniqueName('mixed-c')].map((name) => new SharedMutex({ name })) as [SharedMutex, SharedMutex, SharedMutex];
    const control = new Flags();
    const workerHoldsB = control.flag();
    const flow2Waits = control.flag();
    const worker = startWorker(
      [{ op: 'lock', m: 1 }, { op: 'signal', flag: workerHoldsB }, { op: 'await', flag: flow2Waits }, { op: 'sleep', ms: 10 }, { op: 'lock', m: 0, timeout: 1_500 }, { op: 'releaseAll' }],
      [a, b, c],
      { checks: true, control },
    );
    await control.wait(workerHoldsB);
    const outcome = (promise: Promise<unknown>): Promise<string> => promise.then(
      () => 'ok',
      (error: unknown) => (error as Error).name,
    );
    let flow1Holds!: () => void;
    const flow1Ready = new Promise<void>((resolve) => (flow1Holds = resolve));
    const flow2 = inOtherFlow(async () => {
      const guard = await c.lock();
      await flow1Ready;
      control.signal(flow2Waits);
      const result = await outcome(b.lock({ timeout: 1_500 }).then((held) => held.release()));
      guard.release();
      return result;
    });
    const flow1 = inOtherFlow(async () => {
      const guard = await a.lock();
      flow1Holds();
      await sleep(40);
      const result = await outcome(c.lock({ timeout: 1_500 }).then((held) => held.release()));
      guard.release();
      return result;
    });
    const [r1, r2, steps] = await Promise.all([flow1, flow2, worker.finish()]);
    const all = [r1, r2, steps[4]?.ok === true ? 'ok' : (steps[4]?.error?.name ?? 'missing')];
    assert.ok(!all.includes('LockTimeoutError'), `the cycle went unnoticed until the timeouts: flow 1 ${all[0]}, flow 2 ${all[1]}, worker ${all[2]}`);
    assert.deepEqual(all, ['DeadlockError', 'ok', 'ok'], 'flow 1 closed the cycle last: it is the victim');
  });

  it('fast mode publishes no async waits: an async AB/BA is not reported (it would hang), bounded here by timeouts', async () => {
    fastMode();
    const [a, b] = [new SharedMutex({ name: uniqueName('fast-a') }), new SharedMutex({ name: uniqueName('fast-b') })];
    const control = new Flags();
    const holds = [control.flag(), control.flag()] as const;
    const workers = [0, 1].map((i) =>
      startWorker(
        [{ op: 'lock', m: i }, { op: 'signal', flag: holds[i] as number }, { op: 'await', flag: holds[1 - i] as number }, { op: 'lock', m: 1 - i, timeout: 150 + i * 150 }, { op: 'releaseAll' }],
        [a, b],
        { checks: false, control },
      ),
    );
    const [first, second] = (await Promise.all(workers.map((worker) => worker.finish()))) as [StepResult[], StepResult[]];
    assert.equal(first[3]?.error?.name, 'LockTimeoutError', 'no DeadlockError in fast mode: the first one times out');
    assertGranted(second[3] as StepResult, 'the second one, once the first let go');
  });
});
