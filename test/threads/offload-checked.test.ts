// Checked mode's "heavy work under a lock" finding: calling or awaiting offloaded work while the
// flow holds a lock is published on channels.offloadUnderLock (and printed once per task and
// lock classes as a DEADBOLT_OFFLOAD_UNDER_LOCK warning), naming the locks and where they were
// acquired. A flow that holds nothing, a sibling of a holder, and fast mode are never reported.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Mutex, channels, configure, type LockRef } from '../../dist/index.js';
import { SharedMutex, offload } from '../../dist/threads.js';
import { checkedMode, fastMode, uniqueName } from './fixtures/harness.js';

const kdf = new URL('./fixtures/offload-kdf.mjs', import.meta.url);
const input = { password: 'pw', salt: 'salt', iterations: 1_000 };

interface Finding {
  readonly task: string;
  readonly locks: readonly LockRef[];
  readonly report: string;
}

let findings: Finding[] = [];
const collect = (message: unknown): void => {
  findings.push(message as Finding);
};

beforeEach(() => {
  findings = [];
  subscribe(channels.offloadUnderLock, collect);
});
afterEach(() => {
  unsubscribe(channels.offloadUnderLock, collect);
});

describe('checked mode: offloading under a lock', { timeout: 30_000 }, () => {
  it('calling offload() while holding a Mutex is reported, naming the lock and where it was acquired', async () => {
    checkedMode();
    configure({ stacks: 'always' });
    const mutex = new Mutex({ name: uniqueName('coffer'), rank: 10 });
    const guard = await mutex.lock(); // the report must point at this line
    const result = (await offload(kdf, input)) as { key: string };
    guard.release();
    assert.equal(result.key.length, 64, 'the work itself still ran');
    assert.equal(findings.length, 1, 'one finding per run (not again when it is awaited)');
    const [finding] = findings as [Finding];
    assert.equal(finding.task, '"offload-kdf.mjs"');
    assert.deepEqual(
      finding.locks.map((ref) => [ref.lock, ref.rank, ref.mode]),
      [[mutex.label, 10, 'exclusive']],
    );
    assert.match(finding.report, /offload task "offload-kdf\.mjs" was called while this flow holds:/);
    assert.ok(finding.report.includes(mutex.label), finding.report);
    assert.match(finding.report, /acquired at:\n\s+at .*offload-checked\.test\.ts:\d+/);
    assert.match(finding.report, /release the locks, await the task/);
  });

  it('awaiting offloaded work started before the lock was taken is reported as awaited', async () => {
    checkedMode();
    const mutex = new Mutex({ name: uniqueName('registry') });
    const work = offload(kdf, input);
    const guard = await mutex.lock();
    await work;
    guard.release();
    assert.equal(findings.length, 1);
    assert.match((findings[0] as Finding).report, /was awaited while this flow holds:/);
    assert.match((findings[0] as Finding).report, /the task was called at:\n\s+at .*offload-checked\.test\.ts:\d+/);
    assert.deepEqual(
      (findings[0] as Finding).locks.map((ref) => ref.lock),
      [mutex.label],
    );
  });

  it('a held SharedMutex is named too, with every other lock the flow holds', async () => {
    checkedMode();
    const outer = new Mutex({ name: uniqueName('outer'), rank: 1 });
    const shared = new SharedMutex({ name: uniqueName('shared-key'), rank: 2 });
    const a = await outer.lock();
    const b = await shared.lock();
    await offload(kdf, input);
    b.release();
    a.release();
    assert.equal(findings.length, 1);
    assert.deepEqual(
      (findings[0] as Finding).locks.map((ref) => ref.lock),
      [outer.label, shared.label],
    );
  });

  it('a flow that holds nothing is not reported, even while its sibling holds a lock', async () => {
    checkedMode();
    const mutex = new Mutex({ name: uniqueName('sibling') });
    await offload(kdf, input);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await Promise.all([
      (async () => {
        const guard = await mutex.lock();
        await gate;
        guard.release();
      })(),
      (async () => {
        await offload(kdf, input);
        release();
      })(),
    ]);
    assert.deepEqual(findings, []);
  });

  it('fast mode reports nothing', async () => {
    fastMode();
    const mutex = new Mutex({ name: uniqueName('fast') });
    const guard = await mutex.lock();
    const work = offload(kdf, input);
    assert.equal(Object.getPrototypeOf(work), Promise.prototype, 'fast mode returns a plain promise');
    await work;
    guard.release();
    assert.deepEqual(findings, []);
  });

  it('prints the warning once per task and lock classes, and publishes every time', async () => {
    checkedMode();
    configure({ warnings: true });
    const warnings: Error[] = [];
    const onWarning = (warning: Error & { code?: string }): void => {
      if (warning.code === 'DEADBOLT_OFFLOAD_UNDER_LOCK') warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const first = new Mutex({ name: uniqueName('warned') });
      const second = new Mutex({ name: uniqueName('warned') });
      for (const mutex of [first, first, first, second]) {
        const guard = await mutex.lock();
        await offload(kdf, input);
        guard.release();
      }
      await new Promise((resolve) => setImmediate(resolve)); // 'warning' is emitted on the next tick
      assert.equal(findings.length, 4);
      assert.equal(warnings.length, 2);
      assert.ok(warnings[0]?.message.includes(first.label));
      assert.ok(warnings[1]?.message.includes(second.label));
    } finally {
      process.off('warning', onWarning);
      configure({ warnings: false });
    }
  });
});
