// Ranks are shared through the arena: locks created (and ranked) in the main thread keep their
// ranks in a worker that rebuilds them from handles, so a worker that breaks the order gets
// LockOrderError (kind 'rank') there, before any waiting, as the main thread would.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LockOrderError } from '../../dist/index.js';
import { SharedMutex } from '../../dist/threads.js';
import { Flags, checkedMode, startWorker, stopWorkers, thrownBy, uniqueName, type Step, type StepResult } from './fixtures/harness.js';

after(stopWorkers);

function ranked(): { a: SharedMutex; b: SharedMutex; names: [string, string] } {
  const names: [string, string] = [uniqueName('rank20'), uniqueName('rank10')];
  return { a: new SharedMutex({ name: names[0], rank: 20 }), b: new SharedMutex({ name: names[1], rank: 10 }), names };
}

async function runInWorker(steps: readonly Step[], mutexes: readonly SharedMutex[], checks = true): Promise<StepResult[]> {
  return startWorker(steps, mutexes, { checks, control: new Flags() }).finish();
}

describe('ranks across threads', { timeout: 20_000 }, () => {
  const variants: readonly (readonly ['lock' | 'lockSync', 'lock' | 'lockSync'])[] = [
    ['lock', 'lock'],
    ['lockSync', 'lockSync'],
    ['lock', 'lockSync'],
    ['lockSync', 'lock'],
  ];
  for (const [first, second] of variants) {
    it(`a worker holding rank 20 (${first}) that requests rank 10 (${second}) gets LockOrderError 'rank'`, async () => {
      checkedMode();
      const { a, b, names } = ranked();
      const results = await runInWorker([{ op: first, m: 0 }, { op: second, m: 1, timeout: 5_000 }, { op: 'releaseAll' }], [a, b]);
      assert.ok(results[0]?.ok, 'the worker takes A');
      const refused = results[1] as StepResult;
      assert.equal(refused.ok, false, 'B must be refused');
      assert.equal(refused.error?.name, 'LockOrderError', `${refused.error?.name}: ${refused.error?.message}`);
      assert.equal(refused.error?.code, 'ERR_LOCK_ORDER');
      assert.equal(refused.error?.kind, 'rank');
      assert.ok(refused.elapsed < 50, 'refused before any waiting');
      for (const name of names) assert.ok(`${refused.error?.message}\n${refused.error?.report}`.includes(name), `the error names ${name}`);
      assert.ok(results[2]?.ok);
      // Nothing is left held: this thread takes both.
      const guard = b.tryLock();
      assert.notEqual(guard, null);
      guard?.release();
      a.tryLock()?.release();
    });
  }

  it('the worker refuses even while another thread holds rank 10 (refused before waiting), and the right order works', async () => {
    checkedMode();
    const { a, b } = ranked();
    const held = await b.lock();
    const refused = await runInWorker([{ op: 'lock', m: 0 }, { op: 'lock', m: 1, timeout: 5_000 }, { op: 'releaseAll' }], [a, b]);
    assert.equal(refused[1]?.error?.kind, 'rank');
    assert.ok((refused[1] as StepResult).elapsed < 50);
    held.release();
    const fine = await runInWorker([{ op: 'lock', m: 1 }, { op: 'lockSync', m: 0 }, { op: 'releaseAll' }], [a, b]);
    for (const step of fine) assert.ok(step.ok, `${step.op}: ${step.error?.message}`);
  });

  it('a tryLock() against the order is exempt (it never waits)', async () => {
    checkedMode();
    const { a, b } = ranked();
    const results = await runInWorker([{ op: 'lock', m: 0 }, { op: 'tryLock', m: 1 }, { op: 'releaseAll' }], [a, b]);
    assert.ok(results[1]?.ok);
    assert.equal(results[1]?.acquired, true);
  });

  it('fast mode checks no ranks, in a worker either', async () => {
    checkedMode();
    const { a, b } = ranked();
    const results = await runInWorker([{ op: 'lock', m: 0 }, { op: 'lock', m: 1 }, { op: 'releaseAll' }], [a, b], false);
    for (const step of results) assert.ok(step.ok, `${step.op}: ${step.error?.message}`);
  });

  it('the main thread gets the same LockOrderError for the same locks', async () => {
    checkedMode();
    const { a, b } = ranked();
    const guard = await a.lock();
    const error = await b.lock().then(
      () => null,
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof LockOrderError, String(error));
    assert.equal(error.kind, 'rank');
    const sync = thrownBy(() => b.lockSync());
    assert.ok(sync instanceof LockOrderError);
    assert.equal(sync.kind, 'rank');
    guard.release();
  });
});
