import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { beforeEach, describe, it } from 'node:test';
import { channels, DeadboltError } from '../../src/index.js';
import { Coffer, defaultCoffer } from '../../src/secure/coffer.js';
import { Enclave } from '../../src/secure/enclave.js';
import { EnclaveOpenError, SecretClosedError } from '../../src/secure/errors.js';
import { LockedBuffer } from '../../src/secure/locked-buffer.js';
import { liveBufferCount, purge } from '../../src/secure/registry.js';
import { checkedMode, rejectionOf, sleep } from '../support/helpers.js';

/** A copy of a buffer's bytes, in ordinary memory (tests only). */
function bytesOf(buffer: LockedBuffer): Promise<Buffer> {
  return buffer.withBytes((bytes) => Buffer.from(bytes));
}

async function openedBytes(enclave: Enclave): Promise<Buffer> {
  await using buffer = await enclave.open();
  return bytesOf(buffer);
}

describe('Enclave', () => {
  beforeEach(() => checkedMode());

  it('seal encrypts, destroys the source buffer; open returns the bytes in a new buffer', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const secret = Buffer.from('correct horse battery staple');
    const source = LockedBuffer.from(Buffer.from(secret));
    const enclave = await Enclave.seal(source, coffer);
    assert.equal(source.isAlive, false);
    assert.equal(enclave.size, secret.length);
    assert.equal(enclave.ciphertext.length, 24 + 16 + secret.length);
    assert.equal(enclave.ciphertext.includes(secret), false);

    const opened = await enclave.open();
    assert.ok(opened instanceof LockedBuffer);
    assert.equal(opened.isAlive, true);
    assert.equal(opened.size, secret.length);
    assert.deepEqual(await bytesOf(opened), secret);
    await opened.destroy();
    // the enclave stays sealed and opens again
    assert.deepEqual(await openedBytes(enclave), secret);
  });

  it('uses the default coffer unless given one, and a fresh nonce each time', async () => {
    const a = await Enclave.seal(LockedBuffer.from(Buffer.from('same')));
    const b = await Enclave.seal(LockedBuffer.from(Buffer.from('same')));
    assert.notDeepEqual(a.ciphertext.subarray(0, 24), b.ciphertext.subarray(0, 24));
    assert.notDeepEqual(a.ciphertext, b.ciphertext);
    assert.deepEqual(await openedBytes(a), Buffer.from('same'));
    assert.deepEqual(await openedBytes(b), Buffer.from('same'));
  });

  it('ciphertext is a copy', async () => {
    const enclave = await Enclave.random(16);
    enclave.ciphertext.fill(0);
    assert.equal((await openedBytes(enclave)).length, 16);
  });

  it('a frozen buffer can be sealed', async () => {
    const source = LockedBuffer.from(Buffer.from([1, 2, 3]));
    await source.freeze();
    const enclave = await Enclave.seal(source);
    assert.equal(source.isAlive, false);
    assert.deepEqual(await openedBytes(enclave), Buffer.from([1, 2, 3]));
  });

  it('opens across re-keys (timer and manual)', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 5 });
    const enclave = await Enclave.seal(LockedBuffer.from(Buffer.from('survives re-keys')), coffer);
    await coffer.rekey();
    await sleep(40);
    assert.ok(coffer.stats.rekeys >= 3);
    assert.deepEqual(await openedBytes(enclave), Buffer.from('survives re-keys'));
  });

  it('tampered ciphertext (nonce, tag or body) rejects with EnclaveOpenError and leaks no buffer', async () => {
    for (const index of [0, 23, 24, 39, 40, 47]) {
      const enclave = await Enclave.seal(LockedBuffer.from(Buffer.from('tamper-proof')));
      const live = liveBufferCount();
      enclave.corruptForTest(index);
      const error = await rejectionOf(enclave.open());
      assert.ok(error instanceof EnclaveOpenError, `byte ${index}: ${String(error)}`);
      assert.ok(error instanceof DeadboltError);
      assert.equal(error.code, 'ERR_ENCLAVE_OPEN');
      assert.equal(liveBufferCount(), live, 'the output buffer was destroyed');
      enclave.corruptForTest(index); // flipped back: opens again
      assert.deepEqual(await openedBytes(enclave), Buffer.from('tamper-proof'));
    }
  });

  it('a reset coffer cannot open what was sealed before', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const enclave = await Enclave.seal(LockedBuffer.from(Buffer.from('old key')), coffer);
    await coffer.reset();
    assert.ok((await rejectionOf(enclave.open())) instanceof EnclaveOpenError);
    const fresh = await Enclave.seal(LockedBuffer.from(Buffer.from('new key')), coffer);
    assert.deepEqual(await openedBytes(fresh), Buffer.from('new key'));
  });

  it('after purge(), enclaves sealed before cannot be opened; new ones can', async () => {
    await using coffer = new Coffer({ rekeyIntervalMs: 0 });
    const onDefault = await Enclave.seal(LockedBuffer.from(Buffer.from('default coffer')));
    const onOwn = await Enclave.seal(LockedBuffer.from(Buffer.from('own coffer')), coffer);
    const bystander = LockedBuffer.alloc(8);
    await purge();
    assert.equal(bystander.isAlive, false, 'purge destroyed the live buffers');
    assert.ok((await rejectionOf(onDefault.open())) instanceof EnclaveOpenError);
    assert.ok((await rejectionOf(onOwn.open())) instanceof EnclaveOpenError);
    const after = await Enclave.seal(LockedBuffer.from(Buffer.from('after purge')));
    assert.deepEqual(await openedBytes(after), Buffer.from('after purge'));
  });

  it('a destroyed coffer: open rejects with EnclaveOpenError; seal rejects and keeps the buffer', async () => {
    const coffer = new Coffer({ rekeyIntervalMs: 0 });
    const enclave = await Enclave.seal(LockedBuffer.from(Buffer.from('gone')), coffer);
    await coffer.destroy();
    assert.ok((await rejectionOf(enclave.open())) instanceof EnclaveOpenError);
    const source = LockedBuffer.from(Buffer.from('kept'));
    assert.ok((await rejectionOf(Enclave.seal(source, coffer))) instanceof SecretClosedError);
    assert.equal(source.isAlive, true, 'nothing is lost when sealing fails');
    assert.deepEqual(await bytesOf(source), Buffer.from('kept'));
    await source.destroy();
    const live = liveBufferCount();
    assert.ok((await rejectionOf(Enclave.random(8, coffer))) instanceof SecretClosedError);
    assert.equal(liveBufferCount(), live, 'Enclave.random destroys its buffer when sealing fails');
  });

  it('Enclave.random seals random bytes', async () => {
    const a = await Enclave.random(32);
    const b = await Enclave.random(32);
    assert.equal(a.size, 32);
    const bytesA = await openedBytes(a);
    const bytesB = await openedBytes(b);
    assert.equal(bytesA.length, 32);
    assert.notDeepEqual(bytesA, bytesB);
    assert.notDeepEqual(bytesA, Buffer.alloc(32));
    assert.deepEqual(await openedBytes(a), bytesA);
  });

  it('rejects bad input with errors that name it, destroying nothing', async () => {
    await assert.rejects(Enclave.seal(Buffer.from('plain') as unknown as LockedBuffer), /buffer must be a LockedBuffer/);
    const source = LockedBuffer.from(Buffer.from('x'));
    await assert.rejects(Enclave.seal(source, {} as Coffer), /coffer must be a Coffer/);
    assert.equal(source.isAlive, true);
    await source.destroy();
    assert.ok((await rejectionOf(Enclave.seal(source))) instanceof SecretClosedError, 'a destroyed buffer');
    for (const size of [0, -1, 1.5, Number.NaN, '8' as unknown as number]) {
      await assert.rejects(Enclave.random(size), RangeError);
    }
    await assert.rejects(Enclave.random(8, 'coffer' as unknown as Coffer), TypeError);
  });

  it('many concurrent seal/open/rekey/view in checked mode: no order or deadlock error', async () => {
    const events: unknown[] = [];
    const record = (message: unknown): void => void events.push(message);
    subscribe(channels.deadlock, record);
    subscribe(channels.lockOrder, record);
    try {
      await using coffer = new Coffer({ rekeyIntervalMs: 1 });
      const shared = await Enclave.random(64, coffer);
      const sharedBytes = await openedBytes(shared);
      const tasks = Array.from({ length: 150 }, async (_, i) => {
        switch (i % 5) {
          case 0:
            await coffer.rekey();
            return;
          case 1:
            assert.deepEqual(await openedBytes(shared), sharedBytes);
            return;
          case 2:
            await coffer.view((key) => assert.equal(key.length, 32));
            return;
          default: {
            const plain = Buffer.from(`secret #${i}`);
            const enclave = await Enclave.seal(LockedBuffer.from(Buffer.from(plain)), coffer);
            await sleep(i % 3);
            assert.deepEqual(await openedBytes(enclave), plain);
          }
        }
      });
      const results = await Promise.allSettled(tasks);
      const rejected = results.filter((result) => result.status === 'rejected');
      assert.deepEqual(rejected, []);
      assert.deepEqual(events, []);
      assert.ok(coffer.stats.rekeys >= 30);
      assert.deepEqual(await openedBytes(shared), sharedBytes);
    } finally {
      unsubscribe(channels.deadlock, record);
      unsubscribe(channels.lockOrder, record);
    }
  });

  it('an open racing a purge either succeeds or fails cleanly', async () => {
    const enclaves = await Promise.all(Array.from({ length: 20 }, (_, i) => Enclave.seal(LockedBuffer.from(Buffer.from(`race ${i}`)))));
    const opening = enclaves.map(async (enclave) => {
      const buffer = await enclave.open();
      await buffer.destroy();
    });
    const purging = purge();
    const results = await Promise.allSettled([...opening, purging]);
    for (const result of results) {
      if (result.status === 'rejected') assert.ok(result.reason instanceof EnclaveOpenError || result.reason instanceof SecretClosedError, String(result.reason));
    }
    assert.ok(defaultCoffer().isDestroyed === false);
  });
});
