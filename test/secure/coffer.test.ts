import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import sodium from 'sodium-native';
import { LockOrderError, LockTimeoutError, Mutex } from '../../src/index.js';
import { COFFER_RANK, Coffer, defaultCoffer, partitionsForTest } from '../../src/secure/coffer.js';
import { SecretClosedError } from '../../src/secure/errors.js';
import { purge } from '../../src/secure/registry.js';
import { checkedMode, inOtherFlow, rejectionOf, settle, sleep, uniqueName } from '../support/helpers.js';

/** A copy of the coffer's key, in ordinary memory (tests only). */
function keyOf(coffer: Coffer): Promise<Buffer> {
  return coffer.view((key) => Buffer.from(key));
}

function blake2b256(input: Uint8Array): Buffer {
  const out = Buffer.alloc(32);
  sodium.crypto_generichash(out, input);
  return out;
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  return Buffer.from(a.map((byte, i) => byte ^ (b[i] as number)));
}

describe('Coffer', () => {
  beforeEach(() => checkedMode());

  it('stores key = left XOR BLAKE2b-256(right), 32 bytes, never whole', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const key = await keyOf(coffer);
    const { left, right } = await partitionsForTest(coffer);
    assert.equal(key.length, 32);
    assert.deepEqual(key, xor(left, blake2b256(right)));
    assert.notDeepEqual(left, key);
    assert.notDeepEqual(right, key);
  });

  it('rekey changes both partitions and keeps the key', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const before = await keyOf(coffer);
    let parts = await partitionsForTest(coffer);
    for (let i = 0; i < 5; i++) {
      await coffer.rekey();
      const next = await partitionsForTest(coffer);
      assert.notDeepEqual(next.left, parts.left);
      assert.notDeepEqual(next.right, parts.right);
      assert.deepEqual(xor(next.left, blake2b256(next.right)), before);
      parts = next;
    }
    assert.deepEqual(await keyOf(coffer), before);
    assert.equal(coffer.stats.rekeys, 5);
    assert.equal(coffer.stats.skippedRekeys, 0);
  });

  it('the timer re-keys at its interval and the key stays the same', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 20 });
    const before = await keyOf(coffer);
    const parts = await partitionsForTest(coffer);
    await sleep(130);
    assert.ok(coffer.stats.rekeys >= 2, `expected >= 2 timer re-keys, got ${coffer.stats.rekeys}`);
    assert.notDeepEqual((await partitionsForTest(coffer)).right, parts.right);
    assert.deepEqual(await keyOf(coffer), before);
  });

  it('a busy coffer makes the timer skip the cycle (tryLock) and count it', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 20 });
    // view and rekey hold the lock only synchronously, so a timer tick can never find them
    // holding it: the test holds the coffer's own lock (an @internal accessor) instead.
    const guard = await coffer.mutex.lock();
    const rekeysBefore = coffer.stats.rekeys;
    await sleep(110);
    assert.equal(coffer.stats.rekeys, rekeysBefore, 'no re-key while the lock is held');
    const skipped = coffer.stats.skippedRekeys;
    assert.ok(skipped >= 2, `expected >= 2 skipped cycles, got ${skipped}`);
    guard.release();
    await sleep(70);
    assert.ok(coffer.stats.rekeys > rekeysBefore, 'the timer re-keys again once the lock is free');
  });

  it('stats is a read-only snapshot', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const stats = coffer.stats;
    assert.ok(Object.isFrozen(stats));
    await coffer.rekey();
    assert.equal(stats.rekeys, 0);
    assert.equal(coffer.stats.rekeys, 1);
  });

  it('rekey() waits for the lock', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const guard = await coffer.mutex.lock();
    let done = false;
    const rekeying = inOtherFlow(() => coffer.rekey()).then(() => (done = true));
    await settle();
    assert.equal(done, false);
    assert.equal(coffer.mutex.waiting, 1);
    guard.release();
    await rekeying;
    assert.equal(coffer.stats.rekeys, 1);
  });

  it('view and rekey take timeout and signal for the lock', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const guard = await coffer.mutex.lock();
    const error = await inOtherFlow(() => rejectionOf(coffer.view(() => 0, { timeout: 10 })));
    assert.ok(error instanceof LockTimeoutError);
    const controller = new AbortController();
    const aborted = inOtherFlow(() => rejectionOf(coffer.rekey({ signal: controller.signal })));
    controller.abort(new Error('stop'));
    assert.match(String(await aborted), /stop/);
    guard.release();
    assert.equal(coffer.stats.rekeys, 0);
  });

  it('view runs the callback without the lock, and frees the key after it', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    let leaked: Uint8Array | null = null;
    const result = await coffer.view(async (key) => {
      assert.equal(coffer.mutex.isLocked, false);
      await coffer.rekey(); // would be a self-deadlock if view held the lock
      leaked = key;
      return key.length;
    });
    assert.equal(result, 32);
    assert.equal((leaked as Uint8Array | null)?.byteLength, 0, 'the key bytes are freed (detached) after the callback');
    // a throwing callback frees too, and the error passes through
    await assert.rejects(
      coffer.view(() => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(coffer.mutex.isLocked, false);
  });

  it('concurrent views see one key', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 1 });
    const keys = await Promise.all(Array.from({ length: 50 }, async (_, i) => (i % 5 === 0 ? (await coffer.rekey(), keyOf(coffer)) : keyOf(coffer))));
    for (const key of keys) assert.deepEqual(key, keys[0]);
  });

  it('reset replaces the key', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const before = await keyOf(coffer);
    await coffer.reset();
    const after = await keyOf(coffer);
    assert.notDeepEqual(after, before);
    const { left, right } = await partitionsForTest(coffer);
    assert.deepEqual(after, xor(left, blake2b256(right)));
  });

  it('purge() resets every live coffer', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const before = await keyOf(coffer);
    const shared = await keyOf(defaultCoffer());
    await purge();
    assert.notDeepEqual(await keyOf(coffer), before);
    assert.notDeepEqual(await keyOf(defaultCoffer()), shared);
  });

  it('destroy stops the timer, frees the partitions and closes the coffer; idempotent', async () => {
    const coffer = new Coffer({ rekeyIntervalMs: 5 });
    await sleep(30);
    await coffer.destroy();
    assert.equal(coffer.isDestroyed, true);
    const rekeys = coffer.stats.rekeys;
    await sleep(30);
    assert.equal(coffer.stats.rekeys, rekeys, 'no re-key after destroy');
    assert.ok((await rejectionOf(coffer.view(() => 0))) instanceof SecretClosedError);
    assert.ok((await rejectionOf(coffer.rekey())) instanceof SecretClosedError);
    assert.ok((await rejectionOf(coffer.reset())) instanceof SecretClosedError);
    await coffer.destroy();
    await coffer[Symbol.asyncDispose]();
    await purge(); // the purge hook skips destroyed coffers
  });

  it('destroy waits for a holder of the lock; views queued before it still run', async () => {
    const coffer = new Coffer({ rekeyIntervalMs: 0 });
    const guard = await coffer.mutex.lock();
    const viewing = inOtherFlow(() => coffer.view((key) => key.length));
    const destroying = inOtherFlow(() => coffer.destroy());
    await settle();
    assert.equal(coffer.isDestroyed, true);
    assert.ok((await rejectionOf(coffer.view(() => 0))) instanceof SecretClosedError, 'no new view once destroy began');
    guard.release();
    // FIFO: the view queued before destroy gets the lock first and still sees the key
    assert.equal(await viewing, 32);
    await destroying;
  });

  it('defaultCoffer() is one coffer, replaced once destroyed', async () => {
    const first = defaultCoffer();
    assert.equal(defaultCoffer(), first);
    await first.destroy();
    const second = defaultCoffer();
    assert.notEqual(second, first);
    assert.equal((await keyOf(second)).length, 32);
  });

  it('checked mode: the coffer (rank 10) cannot be waited for while a rank-30 lock is held', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    assert.equal(COFFER_RANK, 10);
    const inner = new Mutex({ name: uniqueName('buffer-like'), rank: 30 });
    const error = await inner.run(() => rejectionOf(coffer.view(() => 0)));
    assert.ok(error instanceof LockOrderError);
    assert.equal(error.kind, 'rank');
    // the other way round is the sanctioned order, and view holds nothing while fn runs
    assert.equal(await coffer.view(() => inner.run(() => 'ok')), 'ok');
  });

  it('rejects bad input with errors that name it', async () => {
    assert.throws(() => new Coffer({ rekeyIntervalMs: -1 }), /rekeyIntervalMs/);
    assert.throws(() => new Coffer({ rekeyIntervalMs: Number.NaN }), RangeError);
    assert.throws(() => new Coffer({ rekeyIntervalMs: Infinity }), RangeError);
    assert.throws(() => new Coffer({ rekeyIntervalMs: 2 ** 31 }), RangeError);
    assert.throws(() => new Coffer({ rekeyIntervalMs: '5' as unknown as number }), RangeError);
    assert.throws(() => new Coffer(null as unknown as object), TypeError);
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    await assert.rejects(coffer.view('fn' as unknown as () => void), /Coffer\.view\(fn\): fn must be a function/);
    await assert.rejects(coffer.view(() => 0, { timeout: -1 }), RangeError);
  });
});
