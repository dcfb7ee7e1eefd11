// LockedBuffer on real libsodium secure memory, in checked mode. Every access here happens inside
// a callback: touching a view outside one (or writing a frozen one) would SIGSEGV this runner,
// so those cases live in crash.test.ts, in child processes.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { LockTimeoutError, LockOrderError, Mutex } from '../../src/index.js';
import { CanaryError, SecretClosedError } from '../../src/secure/errors.js';
import { LockedBuffer } from '../../src/secure/locked-buffer.js';
import { liveBufferCount } from '../../src/secure/registry.js';
import { SecureRegion } from '../../src/secure/secure-region.js';
import { checkedMode, inOtherFlow, rejectionOf, settle, sleep, uniqueName } from '../support/helpers.js';
import { deferred } from '../support/flows.js';

const bytesOf = (buffer: LockedBuffer): Promise<Buffer> => buffer.withBytes((view) => Buffer.from(view));

before(() => {
  checkedMode();
});

describe('LockedBuffer: allocation', () => {
  it('from() copies the bytes into secure memory and zeroes the source', async () => {
    const source = Buffer.from('correct horse battery staple');
    const copy = Buffer.from(source);
    const buffer = LockedBuffer.from(source);
    assert.equal(buffer.size, copy.length);
    assert.deepEqual(source, Buffer.alloc(copy.length), 'the source is wiped');
    assert.deepEqual(await bytesOf(buffer), copy);
    assert.equal(buffer.description, `LockedBuffer(${copy.length} bytes)`);
    await buffer.destroy();
  });

  it('from() wipes exactly the source view, not the rest of its ArrayBuffer', async () => {
    const backing = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const source = backing.subarray(2, 5);
    const buffer = LockedBuffer.from(source);
    assert.deepEqual([...backing], [1, 2, 0, 0, 0, 6, 7, 8]);
    assert.deepEqual([...(await bytesOf(buffer))], [3, 4, 5]);
    await buffer.destroy();
  });

  it('alloc() is zeroed', async () => {
    const buffer = LockedBuffer.alloc(4096 + 7);
    assert.equal(buffer.size, 4103);
    assert.ok(await buffer.withBytes((view) => view.length === 4103 && view.every((b) => b === 0)));
    await buffer.destroy();
  });

  it('random() fills from the CSPRNG: two buffers differ, and neither is all zero', async () => {
    const a = LockedBuffer.random(32);
    const b = LockedBuffer.random(32);
    const [x, y] = [await bytesOf(a), await bytesOf(b)];
    assert.equal(x.length, 32);
    assert.notDeepEqual(x, y);
    assert.ok(x.some((byte) => byte !== 0) && y.some((byte) => byte !== 0));
    await Promise.all([a.destroy(), b.destroy()]);
  });

  it('bad sizes are RangeErrors, and nothing is allocated', () => {
    const live = SecureRegion.usage.live;
    for (const size of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => LockedBuffer.alloc(size), RangeError, `alloc(${size})`);
      assert.throws(() => LockedBuffer.random(size), RangeError, `random(${size})`);
    }
    assert.throws(() => LockedBuffer.alloc('8' as unknown as number), RangeError);
    assert.throws(() => LockedBuffer.from(new Uint8Array(0)), RangeError, 'an empty source');
    assert.equal(SecureRegion.usage.live, live);
  });

  it('from(non-Uint8Array) is a TypeError, and the source is left alone', () => {
    const words = new Uint16Array([1, 2]);
    for (const source of [words, [1, 2, 3], 'secret', null, undefined, new ArrayBuffer(4), new DataView(new ArrayBuffer(4))]) {
      assert.throws(() => LockedBuffer.from(source as unknown as Uint8Array), TypeError);
    }
    assert.deepEqual([...words], [1, 2]);
  });
});

describe('LockedBuffer: withBytes', () => {
  it('returns what a synchronous callback returns and what an async one resolves to', async () => {
    const buffer = LockedBuffer.from(Buffer.from([1, 2, 3]));
    assert.equal(await buffer.withBytes((view) => view[1]), 2);
    assert.equal(
      await buffer.withBytes(async (view) => {
        await sleep(1);
        return view[2];
      }),
      3,
    );
    await buffer.destroy();
  });

  it('rejects with what the callback throws (sync or async), and the buffer stays usable', async () => {
    const buffer = LockedBuffer.from(Buffer.from([9]));
    const boom = new Error('boom');
    assert.equal(
      await rejectionOf(
        buffer.withBytes(() => {
          throw boom;
        }),
      ),
      boom,
    );
    assert.equal(await rejectionOf(buffer.withBytes(() => Promise.reject(boom))), boom);
    assert.equal(await buffer.withBytes((view) => view[0]), 9);
    assert.equal(buffer.isAlive, true);
    await buffer.destroy();
  });

  it('a non-function callback is a TypeError', async () => {
    const buffer = LockedBuffer.alloc(1);
    assert.ok((await rejectionOf(buffer.withBytes(42 as unknown as () => void))) instanceof TypeError);
    assert.ok((await rejectionOf(buffer.uint32(null as unknown as () => void))) instanceof TypeError);
    await buffer.destroy();
  });

  it('concurrent callbacks overlap: both are inside at once, and both read the bytes', async () => {
    const buffer = LockedBuffer.from(Buffer.from('overlap'));
    let inside = 0;
    let most = 0;
    const bothIn = deferred();
    const read = (): Promise<string> =>
      buffer.withBytes(async (view) => {
        inside++;
        most = Math.max(most, inside);
        if (inside === 2) bothIn.resolve();
        // Each callback waits until the other one is inside too: this only finishes if they overlap.
        await bothIn.promise;
        const text = Buffer.from(view).toString();
        inside--;
        return text;
      });
    const both = Promise.all([read(), read()]);
    const noOverlap = new Promise<'no overlap'>((resolve) => setTimeout(resolve, 2_000, 'no overlap').unref());
    const outcome = await Promise.race([both, noOverlap]);
    assert.deepEqual(outcome, ['overlap', 'overlap']);
    assert.equal(most, 2);
    assert.equal(await bytesOf(buffer).then(String), 'overlap', 'usable after the last one left');
    await buffer.destroy();
  });

  it('the view is writable while melted, and the write persists; freeze/melt toggle isFrozen', async () => {
    const buffer = LockedBuffer.alloc(4);
    assert.equal(buffer.isFrozen, false);
    await buffer.withBytes((view) => view.set([1, 2, 3, 4]));
    assert.deepEqual([...(await bytesOf(buffer))], [1, 2, 3, 4]);
    await buffer.freeze();
    assert.equal(buffer.isFrozen, true);
    assert.deepEqual([...(await bytesOf(buffer))], [1, 2, 3, 4], 'a frozen buffer is still readable');
    await buffer.melt();
    assert.equal(buffer.isFrozen, false);
    await buffer.withBytes(async (view) => {
      await settle();
      view[0] = 42;
    });
    assert.deepEqual([...(await bytesOf(buffer))], [42, 2, 3, 4]);
    await buffer.destroy();
  });

  it('callbacks run outside the buffer lock: a callback may take a lock ranked before `buffer` (rank 30)', async () => {
    const buffer = LockedBuffer.alloc(8);
    const early = new Mutex({ name: uniqueName('early'), rank: 10 });
    // Were the per-buffer lock (rank 30) held around the callback, this would be a LockOrderError.
    const got = await buffer.withBytes(() => early.run(() => 'ok'));
    assert.equal(got, 'ok');
    // And the other way round: a flow holding a rank-10 lock may use a buffer.
    assert.equal(await early.run(() => buffer.withBytes((view) => view.length)), 8);
    await buffer.destroy();
  });

  it('a flow that holds a lock ranked after `buffer` cannot use a buffer (LockOrderError, kind rank)', async () => {
    const buffer = LockedBuffer.alloc(8);
    const late = new Mutex({ name: uniqueName('late'), rank: 40 });
    const error = await late.run(() => rejectionOf(buffer.withBytes(() => 0)));
    assert.ok(error instanceof LockOrderError, String(error));
    assert.equal(error.kind, 'rank');
    await buffer.destroy();
  });
});

describe('LockedBuffer: typed copies', () => {
  // Ten bytes: two whole uint32s (little-endian), and two trailing bytes that no uint32 covers.
  const KNOWN = [0x01, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12, 0xff, 0xfe];

  it('have the right lengths and little-endian values; trailing bytes are left out', async () => {
    const buffer = LockedBuffer.from(Uint8Array.from(KNOWN));
    assert.deepEqual(await buffer.uint32((v) => [...v]), [1, 0x12345678]);
    assert.deepEqual(await buffer.uint16((v) => [...v]), [1, 0, 0x5678, 0x1234, 0xfeff]);
    assert.deepEqual(await buffer.int8((v) => [...v]), [1, 0, 0, 0, 0x78, 0x56, 0x34, 0x12, -1, -2]);
    assert.deepEqual(await buffer.int16((v) => [...v]), [1, 0, 0x5678, 0x1234, -257]);
    assert.deepEqual(await buffer.int32((v) => [...v]), [1, 0x12345678]);
    assert.deepEqual(await buffer.int64((v) => [...v]), [0x12345678_00000001n]);
    assert.deepEqual(await buffer.bigUint64((v) => [...v]), [0x12345678_00000001n]);
    const minusOne = LockedBuffer.from(new Uint8Array(8).fill(0xff));
    assert.deepEqual(await minusOne.int64((v) => [...v]), [-1n]);
    assert.deepEqual(await minusOne.bigUint64((v) => [...v]), [2n ** 64n - 1n]);
    assert.deepEqual(await minusOne.int32((v) => [...v]), [-1, -1]);
    assert.deepEqual(await minusOne.uint32((v) => [...v]), [0xffffffff, 0xffffffff]);
    await Promise.all([buffer.destroy(), minusOne.destroy()]);
  });

  it('a buffer smaller than one element gives an empty copy', async () => {
    const buffer = LockedBuffer.from(Uint8Array.from([1, 2, 3]));
    assert.equal(await buffer.uint32((v) => v.length), 0);
    assert.equal(await buffer.bigUint64((v) => v.length), 0);
    await buffer.destroy();
  });

  it('the copy is zeroed after the callback (sync, async, and when it throws), and writing it does not change the buffer', async () => {
    const buffer = LockedBuffer.from(Uint8Array.from(KNOWN));
    let kept: Uint32Array = new Uint32Array(0);
    const seen = await buffer.uint32((v) => {
      kept = v;
      const before = [...v];
      v[0] = 0xdeadbeef;
      return before;
    });
    assert.deepEqual(seen, [1, 0x12345678]);
    assert.deepEqual([...kept], [0, 0], 'wiped after a synchronous callback');
    assert.deepEqual([...(await bytesOf(buffer))], KNOWN, 'the buffer did not change');

    let keptBig: BigUint64Array = new BigUint64Array(0);
    await buffer.bigUint64(async (v) => {
      keptBig = v;
      await sleep(1);
      assert.deepEqual([...v], [0x12345678_00000001n], 'the copy is intact across an await in the callback');
    });
    assert.deepEqual([...keptBig], [0n], 'wiped after an async callback');

    let keptSigned: Int16Array = new Int16Array(0);
    const boom = new Error('boom');
    const error = await rejectionOf(
      buffer.int16(async (v) => {
        keptSigned = v;
        await settle();
        throw boom;
      }),
    );
    assert.equal(error, boom);
    assert.equal(keptSigned.length, 5);
    assert.ok(keptSigned.every((x) => x === 0), 'wiped after a callback that threw');
    await buffer.destroy();
  });

  it('the copy is independent of secure memory: the buffer is no longer accessed while the callback runs', async () => {
    // Destroy must not wait for a typed-copy callback: the copy was taken in a short window.
    const buffer = LockedBuffer.from(Uint8Array.from(KNOWN));
    const release = deferred();
    const reading = buffer.uint32(async (v) => {
      await release.promise;
      return [...v];
    });
    await sleep(5);
    await buffer.destroy({ timeout: 1_000 });
    assert.equal(buffer.isAlive, false);
    release.resolve();
    assert.deepEqual(await reading, [1, 0x12345678]);
  });
});

describe('LockedBuffer: destroy', () => {
  it('waits for a running callback: it resolves only after the callback finished', async () => {
    const buffer = LockedBuffer.from(Buffer.from('wait for me'));
    const release = deferred();
    const events: string[] = [];
    const reading = buffer.withBytes(async (view) => {
      await release.promise;
      events.push('callback done');
      return Buffer.from(view).toString();
    });
    await settle();
    const destroying = buffer.destroy().then(() => events.push('destroyed'));
    await sleep(20);
    assert.deepEqual(events, [], 'destroy is still waiting');
    assert.equal(buffer.isAlive, false, 'destroy began: no longer alive');
    release.resolve();
    assert.equal(await reading, 'wait for me', 'the running callback saw the whole secret');
    await destroying;
    assert.deepEqual(events, ['callback done', 'destroyed']);
    assert.ok((await rejectionOf(buffer.withBytes(() => 0))) instanceof SecretClosedError);
  });

  it('with a timeout while a callback hangs: rejects with LockTimeoutError; the callback keeps its bytes; new access is refused; a later destroy succeeds', async () => {
    const live = liveBufferCount();
    const buffer = LockedBuffer.from(Buffer.from('still here'));
    const release = deferred();
    const inside = deferred();
    const reading = buffer.withBytes(async (view) => {
      const first = Buffer.from(view).toString();
      inside.resolve();
      await release.promise;
      view[0] = 0x53; // 'S': the buffer is still allocated and writable for its running callback
      return [first, Buffer.from(view).toString()];
    });
    await inside.promise;
    const started = performance.now();
    const error = await rejectionOf(buffer.destroy({ timeout: 50 }));
    assert.ok(error instanceof LockTimeoutError, String(error));
    assert.ok(performance.now() - started >= 45);
    assert.equal(buffer.isAlive, false, 'closed to new access');
    assert.ok((await rejectionOf(buffer.withBytes(() => 0))) instanceof SecretClosedError);
    assert.ok((await rejectionOf(buffer.uint16(() => 0))) instanceof SecretClosedError);
    assert.equal(liveBufferCount(), live + 1, 'still registered');
    assert.equal(buffer.gate.region.freed, false, 'still allocated');
    release.resolve();
    assert.deepEqual(await reading, ['still here', 'Still here']);
    await buffer.destroy({ timeout: 1_000 });
    assert.equal(liveBufferCount(), live);
    assert.equal(buffer.gate.region.freed, true);
  });

  it('with an aborted signal while a callback hangs: rejects with the reason; a later destroy succeeds', async () => {
    const buffer = LockedBuffer.alloc(8);
    const release = deferred();
    const reading = buffer.withBytes(() => release.promise);
    await settle();
    const controller = new AbortController();
    const destroying = rejectionOf(buffer.destroy({ signal: controller.signal }));
    await sleep(5);
    const reason = new Error('shutting down differently');
    controller.abort(reason);
    assert.equal(await destroying, reason);
    release.resolve();
    await reading;
    await buffer.destroy();
    assert.equal(buffer.isAlive, false);
  });

  it('a destroy from another flow waits for this flow’s callback (checked mode sees no deadlock)', async () => {
    const buffer = LockedBuffer.alloc(8);
    const release = deferred();
    const reading = buffer.withBytes(() => release.promise);
    await settle();
    const destroying = inOtherFlow(() => buffer.destroy({ timeout: 2_000 }));
    await sleep(10);
    release.resolve();
    await reading;
    await destroying;
    assert.equal(buffer.isAlive, false);
  });

  it('use after destroy is SecretClosedError, for every accessor and for freeze/melt', async () => {
    const buffer = LockedBuffer.random(16);
    await buffer.destroy();
    assert.equal(buffer.isAlive, false);
    const attempts: Promise<unknown>[] = [
      buffer.withBytes(() => 0),
      buffer.uint16(() => 0),
      buffer.uint32(() => 0),
      buffer.int8(() => 0),
      buffer.int16(() => 0),
      buffer.int32(() => 0),
      buffer.int64(() => 0),
      buffer.bigUint64(() => 0),
      buffer.freeze(),
      buffer.melt(),
    ];
    for (const attempt of attempts) {
      const error = await rejectionOf(attempt);
      assert.ok(error instanceof SecretClosedError, String(error));
      assert.equal((error as SecretClosedError).code, 'ERR_SECRET_CLOSED');
      assert.match((error as Error).message, /LockedBuffer\(16 bytes\) is closed/);
    }
  });

  it('destroy twice is a no-op, and concurrent destroys both resolve', async () => {
    const a = LockedBuffer.random(8);
    await a.destroy();
    await a.destroy();
    const b = LockedBuffer.random(8);
    await Promise.all([b.destroy(), b.destroy(), b.destroy()]);
    assert.equal(b.isAlive, false);
    assert.equal(a.gate.region.freed, true);
    assert.equal(b.gate.region.freed, true);
  });

  it('a corrupted canary: destroy rejects with CanaryError, and the buffer is freed anyway', async () => {
    const live = liveBufferCount();
    const buffer = LockedBuffer.from(Buffer.from('canary'));
    buffer.gate.region.corruptCanaryForTest();
    const error = await rejectionOf(buffer.destroy());
    assert.ok(error instanceof CanaryError, String(error));
    assert.equal((error as CanaryError).code, 'ERR_CANARY');
    assert.match((error as Error).message, /canary of LockedBuffer\(6 bytes\) was overwritten/);
    assert.equal(buffer.gate.region.freed, true);
    assert.equal(buffer.isAlive, false);
    assert.equal(liveBufferCount(), live, 'unregistered');
    assert.ok((await rejectionOf(buffer.withBytes(() => 0))) instanceof SecretClosedError);
    await buffer.destroy(); // a no-op now
  });

  it('an intact canary: destroy resolves and the region is freed and wiped', async () => {
    const buffer = LockedBuffer.random(32);
    const region = buffer.gate.region;
    await buffer.destroy();
    assert.equal(region.freed, true);
    assert.throws(() => region.bytes, TypeError, 'the memory is detached from JS: no view of it can be made');
  });

  it('await using destroys at the end of the scope', async () => {
    let escaped: LockedBuffer | undefined;
    {
      await using buffer = LockedBuffer.from(Buffer.from('scoped'));
      escaped = buffer;
      assert.equal(await bytesOf(buffer).then(String), 'scoped');
    }
    assert.equal(escaped.isAlive, false);
    assert.equal(escaped.gate.region.freed, true);
  });

  it('await using with a callback still running at the end of the scope waits for it', async () => {
    const events: string[] = [];
    let pending: Promise<void> = Promise.resolve();
    {
      await using buffer = LockedBuffer.alloc(4);
      pending = buffer.withBytes(async () => {
        await sleep(20);
        events.push('callback');
      });
      await settle();
    }
    events.push('scope left');
    await pending;
    assert.deepEqual(events, ['callback', 'scope left']);
  });

  it('destroy from inside the buffer’s own callback cannot finish while that callback runs: with a timeout it rejects (no hang)', async () => {
    const buffer = LockedBuffer.alloc(4);
    const error = await buffer.withBytes(() => rejectionOf(buffer.destroy({ timeout: 50 })));
    assert.ok(error instanceof LockTimeoutError, String(error));
    await buffer.destroy();
    assert.equal(buffer.isAlive, false);
  });
});
