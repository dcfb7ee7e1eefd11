// The registry of live secure buffers: purge(), and the finalizer for buffers nobody destroyed.
// The registry is global to the process, so the tests of this file run one after the other
// (node:test's default) and each leaves it empty.
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';
import { DeadlockError, LockOrderError, LockTimeoutError, Mutex } from '../../src/index.js';
import { CanaryError, SecretClosedError } from '../../src/secure/errors.js';
import { LockedBuffer } from '../../src/secure/locked-buffer.js';
import { liveBufferCount, purge, PurgeError } from '../../src/secure/registry.js';
import { SecretFactory, type Secret } from '../../src/secure/secret.js';
import { checkedMode, inOtherFlow, rejectionOf, settle, sleep, uniqueName } from '../support/helpers.js';
import { deferred } from '../support/flows.js';
import { describeEnd, resultLine, runChild } from './fixtures/run-child.js';

before(() => {
  checkedMode();
});

afterEach(async () => {
  // Whatever a failed test left behind must not leak into the next one.
  if (liveBufferCount() > 0) await purge({ timeout: 1_000 }).catch(() => undefined);
});

describe('purge', () => {
  it('with nothing registered returns 0', async () => {
    assert.equal(liveBufferCount(), 0);
    assert.equal(await purge(), 0);
  });

  it('destroys every live LockedBuffer and Secret and returns how many', async () => {
    const buffers = [LockedBuffer.alloc(8), LockedBuffer.from(Buffer.from('two')), LockedBuffer.random(32), LockedBuffer.random(1)];
    const secrets = [SecretFactory.random(16), SecretFactory.create(Buffer.from('pw'))];
    const gone = LockedBuffer.alloc(4);
    await gone.destroy(); // destroyed before: not counted again
    assert.equal(liveBufferCount(), 6);
    assert.equal(await purge(), 6);
    assert.equal(liveBufferCount(), 0);
    for (const buffer of buffers) {
      assert.equal(buffer.isAlive, false);
      assert.equal(buffer.gate.region.freed, true);
      assert.ok((await rejectionOf(buffer.withBytes(() => 0))) instanceof SecretClosedError);
    }
    for (const secret of secrets) {
      assert.equal(secret.isClosed, true);
      assert.ok((await rejectionOf(secret.withBytes(() => 0))) instanceof SecretClosedError);
    }
    assert.equal(await purge(), 0, 'nothing left');
  });

  it('waits for running callbacks that finish within the timeout', async () => {
    const buffer = LockedBuffer.from(Buffer.from('almost done'));
    const reading = buffer.withBytes(async (view) => {
      await sleep(30);
      return Buffer.from(view).toString();
    });
    await settle();
    assert.equal(await purge({ timeout: 2_000 }), 1);
    assert.equal(await reading, 'almost done');
    assert.equal(buffer.isAlive, false);
  });

  it('a callback that hangs past the timeout: PurgeError lists its buffer, which stays registered; a later purge destroys it', async () => {
    const others = [LockedBuffer.random(8), SecretFactory.random(8)];
    const stuck = LockedBuffer.from(Buffer.from('not yet, please'));
    const stuckSecret: Secret = SecretFactory.create(Buffer.from('me neither'));
    const release = deferred();
    const inside = deferred();
    const readings = [
      stuck.withBytes(async (view) => {
        inside.resolve();
        await release.promise;
        return Buffer.from(view).toString();
      }),
      stuckSecret.withBytes(async (view) => {
        await release.promise;
        return Buffer.from(view).toString();
      }),
    ];
    await inside.promise;
    const error = await rejectionOf(purge({ timeout: 50 }));
    assert.ok(error instanceof PurgeError, String(error));
    assert.equal(error.code, 'ERR_PURGE');
    assert.equal(error.destroyed, 2);
    assert.deepEqual(error.failed.map((f) => f.buffer).sort(), ['LockedBuffer(15 bytes)', 'Secret(10 bytes)']);
    for (const failure of error.failed) assert.ok(failure.error instanceof LockTimeoutError, String(failure.error));
    assert.match(error.message, /purge destroyed 2 secure buffer\(s\), with 2 problem\(s\)/);
    assert.match(error.message, /LockedBuffer\(15 bytes\): timed out/);
    assert.ok(others.every((o) => (o instanceof LockedBuffer ? !o.isAlive : o.isClosed)));
    assert.equal(liveBufferCount(), 2, 'the two still in use stay registered');
    assert.equal(stuck.isAlive, false, 'but closed to new access');
    assert.ok((await rejectionOf(stuck.withBytes(() => 0))) instanceof SecretClosedError);
    release.resolve();
    assert.deepEqual(await Promise.all(readings), ['not yet, please', 'me neither'], 'the running callbacks kept their bytes');
    assert.equal(await purge({ timeout: 1_000 }), 2);
    assert.equal(liveBufferCount(), 0);
    assert.equal(stuck.gate.region.freed, true);
  });

  it('an aborted signal: PurgeError with the reason for the buffers still in use', async () => {
    const buffer = LockedBuffer.random(8);
    const release = deferred();
    const reading = buffer.withBytes(() => release.promise);
    await settle();
    const controller = new AbortController();
    const purging = rejectionOf(purge({ signal: controller.signal }));
    await sleep(5);
    controller.abort(new Error('deadline'));
    const error = await purging;
    assert.ok(error instanceof PurgeError, String(error));
    assert.equal(error.destroyed, 0);
    assert.match(String(error.failed[0]?.error), /deadline/);
    assert.equal(liveBufferCount(), 1);
    release.resolve();
    await reading;
    assert.equal(await purge(), 1);
  });

  it('a buffer with a corrupted canary is reported in PurgeError (CanaryError), and freed anyway', async () => {
    const good = LockedBuffer.random(8);
    const bad = LockedBuffer.from(Buffer.from('underflow'));
    bad.gate.region.corruptCanaryForTest();
    const error = await rejectionOf(purge());
    assert.ok(error instanceof PurgeError, String(error));
    assert.equal(error.destroyed, 2, 'the bad buffer was destroyed too, and is reported');
    assert.equal(error.failed.length, 1);
    assert.equal(error.failed[0]?.buffer, 'LockedBuffer(9 bytes)');
    assert.ok(error.failed[0]?.error instanceof CanaryError);
    assert.equal(good.isAlive, false);
    assert.equal(bad.isAlive, false);
    assert.equal(bad.gate.region.freed, true, 'wiped and freed despite the canary');
    assert.equal(liveBufferCount(), 0, 'a freed buffer is not put back in the registry');
    assert.equal(await purge(), 0);
  });

  it('two purges at once: together they destroy each buffer once', async () => {
    const buffers = Array.from({ length: 20 }, () => LockedBuffer.random(8));
    const [a, b] = await Promise.all([purge(), inOtherFlow(() => purge())]);
    assert.equal(a + b, 20);
    assert.ok(buffers.every((buffer) => !buffer.isAlive));
    assert.equal(liveBufferCount(), 0);
  });

  it('1,000 buffers and secrets are purged well within 5 s', async () => {
    const buffers = Array.from({ length: 500 }, (_, i) => LockedBuffer.from(Buffer.from(`key ${i}`)));
    const secrets = Array.from({ length: 500 }, () => SecretFactory.random(32));
    const started = performance.now();
    assert.equal(await purge(), 1_000);
    const ms = performance.now() - started;
    assert.ok(ms < 5_000, `purge of 1,000 took ${ms.toFixed(0)} ms`);
    assert.ok(buffers.every((b) => !b.isAlive) && secrets.every((s) => s.isClosed));
    assert.equal(liveBufferCount(), 0);
  });
});

describe('purge while other flows allocate and use buffers (checked mode)', () => {
  it('raises no LockOrderError or DeadlockError; every buffer made before a purge is destroyed by it', async () => {
    const WORKERS = 6;
    const ITERATIONS = 150;
    interface Made {
      readonly thing: LockedBuffer | Secret;
      readonly alive: () => boolean;
    }
    const made: Made[] = [];
    const unexpected: unknown[] = [];
    let refused = 0;
    let reads = 0;
    const appClass = uniqueName('app');

    const worker = async (id: number): Promise<void> => {
      // Application code that holds its own lock (ranked before the secure locks) while it uses buffers.
      const app = new Mutex({ name: `${appClass}-${id}`, rank: 5 });
      const keep: (LockedBuffer | Secret)[] = [];
      for (let i = 0; i < ITERATIONS; i++) {
        try {
          const useSecret = (id + i) % 3 === 0;
          const thing = useSecret ? SecretFactory.create(Buffer.from(`s${id}:${i}`)) : LockedBuffer.from(Buffer.from(`b${id}:${i}`));
          made.push({ thing, alive: () => (thing instanceof LockedBuffer ? thing.isAlive : !thing.isClosed) });
          keep.push(thing);
          const expected = `${useSecret ? 's' : 'b'}${id}:${i}`;
          const check = (view: Uint8Array): void => {
            reads++;
            if (Buffer.from(view).toString() !== expected) unexpected.push(new Error(`wrong bytes in ${expected}`));
          };
          await app.run(async () => {
            await thing.withBytes(async (view) => {
              check(view);
              await settle();
              check(view);
            });
          });
          // Use some older ones (a purge may have destroyed them meanwhile), destroy a few.
          const old = keep[Math.floor((i * 7 + id) % keep.length)];
          if (old !== undefined) {
            await old.withBytes((view) => view.length).catch((error: unknown) => {
              if (error instanceof SecretClosedError) refused++;
              else throw error;
            });
          }
          if (i % 4 === 0 && thing instanceof LockedBuffer) {
            await thing.freeze().catch((error: unknown) => {
              if (!(error instanceof SecretClosedError)) throw error;
            });
          }
          if (i % 5 === 0) await thing.destroy();
        } catch (error) {
          if (error instanceof SecretClosedError) refused++;
          else unexpected.push(error);
        }
        if (i % 10 === 0) await sleep(0);
      }
    };

    const workers = Array.from({ length: WORKERS }, (_, id) => inOtherFlow(() => worker(id)));
    let purged = 0;
    let purges = 0;
    let running = true;
    void Promise.all(workers).finally(() => (running = false));
    while (running) {
      await sleep(3);
      const before = made.slice();
      try {
        purged += await purge({ timeout: 2_000 });
      } catch (error) {
        unexpected.push(error);
      }
      purges++;
      const survivors = before.filter((m) => m.alive());
      assert.equal(survivors.length, 0, `purge #${purges}: buffers made before it still alive`);
    }
    await Promise.all(workers);
    purged += await purge();

    const orderOrDeadlock = unexpected.filter((e) => e instanceof LockOrderError || e instanceof DeadlockError);
    assert.deepEqual(orderOrDeadlock, [], 'no lock-discipline error');
    assert.deepEqual(unexpected.map(String), []);
    assert.ok(purges >= 2, `purges ran while the workers ran (${purges})`);
    assert.ok(purged > 0 && refused > 0, `purges destroyed buffers in use by the workers (purged ${purged}, refused ${refused})`);
    assert.ok(reads >= WORKERS * ITERATIONS);
    assert.ok(made.every((m) => !m.alive()));
    assert.equal(liveBufferCount(), 0);
  });
});

describe('finalizer (child processes with --expose-gc)', () => {
  const leak = (scenario: string) => runChild('leak-child.ts', [scenario], { execArgv: ['--expose-gc'] });

  it('a buffer and a secret dropped without destroy are wiped and freed, with a DEADBOLT_SECURE_LEAK warning', async () => {
    const result = await leak('dropped');
    assert.equal(result.code, 0, describeEnd(result));
    const out = resultLine<{ liveBefore: number; registered: number; warnings: string[]; liveBuffers: number; liveRegions: number }>(result.stdout);
    assert.equal(out.registered, 2);
    assert.equal(out.liveBuffers, 0, 'liveBufferCount() back to 0');
    assert.equal(out.liveRegions, 1, 'only the process canary is still allocated');
    assert.equal(out.warnings.length, 2);
    assert.ok(out.warnings.some((w) => /^LockedBuffer\(32 bytes\) was garbage-collected without destroy\(\); deadbolt wiped and freed it/.test(w)));
    assert.ok(out.warnings.some((w) => /^Secret\(16 bytes\) was garbage-collected without destroy\(\)/.test(w)));
    assert.match(result.stderr, /\[DEADBOLT_SECURE_LEAK\]/);
  });

  it('control: a referenced buffer survives collection, and a destroyed one draws no warning', async () => {
    const result = await leak('kept');
    assert.equal(result.code, 0, describeEnd(result));
    assert.deepEqual(resultLine(result.stdout), { aliveAfterGc: true, warnings: [], liveBuffers: 0, liveRegions: 1 });
    assert.doesNotMatch(result.stderr, /DEADBOLT_SECURE_LEAK/);
  });

  // BUG (src/secure/registry.ts, the FinalizationRegistry callback, and access-gate.ts
  // freeUnreachable): a running withBytes callback does not keep its LockedBuffer reachable
  // (AccessGate.access holds the gate, not the buffer). If the caller drops its reference while
  // the callback awaits, e.g. `LockedBuffer.from(x).withBytes(async (k) => { await io(); use(k) })`
  // or a local of a function that returned the withBytes promise, the finalizer frees the memory
  // under the callback: its view is detached (length 0) in mid-callback, reads see nothing and
  // writes are lost, with a "garbage-collected without destroy()" warning.
  // Expected: the view stays valid until the callback settles (the buffer is freed after that).
  it('a buffer whose only reference is dropped while its callback runs is not freed under the callback', async () => {
    const result = await leak('mid-callback');
    assert.equal(result.code, 0, describeEnd(result));
    const out = resultLine<{ expected: string; seen: { before: number; after: number; text: string }; liveBuffers: number }>(result.stdout);
    assert.equal(out.seen.before, out.expected.length);
    assert.deepEqual(out.seen, { before: out.expected.length, after: out.expected.length, text: out.expected }, 'the view was valid for the whole callback');
    assert.equal(out.liveBuffers, 0);
  });
});
