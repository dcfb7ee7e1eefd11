// Secret: asherah's semantics on real libsodium secure memory, in checked mode. Readers count
// under the secret's own lock; the memory is read-only while a reader is inside and no-access
// otherwise; close() waits for the readers it let in and refuses new ones.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { LockTimeoutError } from '../../src/index.js';
import { SecretClosedError } from '../../src/secure/errors.js';
import { liveBufferCount } from '../../src/secure/registry.js';
import { SecretFactory, type Secret } from '../../src/secure/secret.js';
import { SecureRegion } from '../../src/secure/secure-region.js';
import { checkedMode, inOtherFlow, rejectionOf, seededRandom, settle, sleep } from '../support/helpers.js';
import { deferred } from '../support/flows.js';
import { describeEnd, resultLine, runChild } from './fixtures/run-child.js';

before(() => {
  checkedMode();
});

const text = (secret: Secret): Promise<string> => secret.withBytes((view) => Buffer.from(view).toString());


describe('Secret: creation and reading', () => {
  it('create() copies the bytes into secure memory and zeroes the source', async () => {
    const source = Buffer.from('db-password-hunter2');
    const secret = SecretFactory.create(source);
    assert.deepEqual(source, Buffer.alloc(source.length));
    assert.equal(await text(secret), 'db-password-hunter2');
    assert.equal(secret.size, 19);
    assert.equal(secret.description, 'Secret(19 bytes)');
    assert.equal(secret.isClosed, false);
    await secret.close();
  });

  it('random() gives distinct random bytes', async () => {
    const a = SecretFactory.random(32);
    const b = SecretFactory.random(32);
    const [x, y] = [await a.withBytes((v) => Buffer.from(v)), await b.withBytes((v) => Buffer.from(v))];
    assert.equal(x.length, 32);
    assert.notDeepEqual(x, y);
    await Promise.all([a.close(), b.close()]);
  });

  it('bad input: non-Uint8Array source (TypeError), bad sizes (RangeError), non-function callback (TypeError)', async () => {
    for (const source of [[1, 2], 'secret', new Uint32Array(1), null]) {
      assert.throws(() => SecretFactory.create(source as unknown as Uint8Array), TypeError);
    }
    assert.throws(() => SecretFactory.create(new Uint8Array(0)), RangeError);
    for (const size of [0, -1, 1.5, Number.NaN]) assert.throws(() => SecretFactory.random(size), RangeError, `random(${size})`);
    const secret = SecretFactory.random(4);
    assert.ok((await rejectionOf(secret.withBytes('nope' as unknown as () => void))) instanceof TypeError);
    await secret.close();
  });

  it('withBytes: sync and async callbacks; accessors counts the readers inside', async () => {
    const secret = SecretFactory.create(Buffer.from('abc'));
    assert.equal(secret.accessors, 0);
    const release = deferred();
    const counts: number[] = [];
    const readers = [0, 1, 2].map((i) =>
      secret.withBytes(async (view) => {
        counts.push(secret.accessors);
        await release.promise;
        return view[i];
      }),
    );
    await sleep(5);
    assert.equal(secret.accessors, 3);
    assert.equal(await secret.withBytes((view) => view.length), 3, 'a fourth reader gets in while three are inside');
    release.resolve();
    assert.deepEqual(await Promise.all(readers), [0x61, 0x62, 0x63]);
    assert.equal(counts.length, 3);
    assert.ok(counts.every((n) => n >= 1 && n <= 3), `accessors seen inside: ${counts.join(', ')}`);
    assert.equal(secret.accessors, 0);
    await secret.close();
  });

  it('a throwing reader leaves: accessors back to 0, and close does not wait for it', async () => {
    const secret = SecretFactory.random(8);
    const boom = new Error('boom');
    assert.equal(
      await rejectionOf(
        secret.withBytes(async () => {
          await settle();
          throw boom;
        }),
      ),
      boom,
    );
    assert.equal(secret.accessors, 0);
    await secret.close({ timeout: 500 });
  });

  it('withBytes is read-only: writing through the view kills the process (in a child)', async () => {
    const result = await runChild('crash-child.ts', ['secret-write']);
    assert.ok(result.signal === 'SIGSEGV' || result.signal === 'SIGBUS', describeEnd(result));
    assert.match(result.stdout, /INSIDE first=67\nTOUCH\n/, 'reading was fine, the write faulted');
    assert.doesNotMatch(result.stdout, /SURVIVED/);
  });
});

describe('Secret: close', () => {
  it('waits for the readers inside, lets them finish with the right bytes, then frees', async () => {
    const live = liveBufferCount();
    const secret = SecretFactory.create(Buffer.from('patience'));
    const release = deferred();
    const events: string[] = [];
    const reading = secret.withBytes(async (view) => {
      await release.promise;
      events.push('read');
      return Buffer.from(view).toString();
    });
    await settle();
    const closing = secret.close().then(() => events.push('closed'));
    await sleep(20);
    assert.deepEqual(events, []);
    assert.equal(secret.isClosed, true, 'closing already');
    release.resolve();
    assert.equal(await reading, 'patience');
    await closing;
    assert.deepEqual(events, ['read', 'closed']);
    assert.equal(liveBufferCount(), live, 'unregistered once freed');
    assert.equal(secret.accessors, 0);
  });

  it('with a timeout while a reader hangs: rejects; closed to new readers; the reader keeps its bytes; freed by a later close', async () => {
    const live = liveBufferCount();
    const secret = SecretFactory.create(Buffer.from('hanging'));
    const release = deferred();
    const inside = deferred();
    const reading = secret.withBytes(async (view) => {
      inside.resolve();
      await release.promise;
      return Buffer.from(view).toString();
    });
    await inside.promise;
    const error = await rejectionOf(secret.close({ timeout: 50 }));
    assert.ok(error instanceof LockTimeoutError, String(error));
    assert.equal(secret.isClosed, true);
    const refused = await rejectionOf(secret.withBytes(() => 0));
    assert.ok(refused instanceof SecretClosedError, String(refused));
    assert.match((refused as Error).message, /Secret\(7 bytes\) is closed/);
    assert.equal(liveBufferCount(), live + 1, 'not freed yet: still registered');
    assert.equal(secret.accessors, 1);
    release.resolve();
    assert.equal(await reading, 'hanging', 'the reader that was let in read the whole secret');
    await secret.close({ timeout: 1_000 });
    assert.equal(liveBufferCount(), live, 'freed now');
    assert.ok((await rejectionOf(secret.withBytes(() => 0))) instanceof SecretClosedError);
  });

  it('with an aborted signal: rejects with its reason, and a later close frees', async () => {
    const secret = SecretFactory.random(8);
    const release = deferred();
    const reading = secret.withBytes(() => release.promise);
    await settle();
    const controller = new AbortController();
    controller.abort(new Error('go away'));
    const error = await rejectionOf(secret.close({ signal: controller.signal }));
    assert.match(String(error), /go away/);
    release.resolve();
    await reading;
    await secret.close();
    assert.equal(secret.isClosed, true);
  });

  it('is idempotent: twice in a row, and concurrently (the second waits for the first)', async () => {
    const secret = SecretFactory.random(8);
    const release = deferred();
    const reading = secret.withBytes(() => release.promise);
    await settle();
    const first = secret.close();
    const second = inOtherFlow(() => secret.close());
    let settled = 0;
    void first.then(() => settled++);
    void second.then(() => settled++);
    await sleep(10);
    assert.equal(settled, 0, 'both wait for the reader');
    release.resolve();
    await Promise.all([reading, first, second]);
    await secret.close();
    assert.equal(secret.isClosed, true);
  });

  it('await using closes at the end of the scope', async () => {
    let escaped: Secret | undefined;
    {
      await using secret = SecretFactory.create(Buffer.from('scoped'));
      escaped = secret;
      assert.equal(await text(secret), 'scoped');
    }
    assert.equal(escaped.isClosed, true);
    assert.ok((await rejectionOf(escaped.withBytes(() => 0))) instanceof SecretClosedError);
  });
});

describe('Secret: close while reading (seeded interleavings)', () => {
  const READERS = 200;
  const SEEDS = [1, 2, 3, 42, 1337, 2024, 31337, 65535, 0xc0ffee, 0xdeadbeef];
  /** Readers inside their callback when close() was called, per seed. */
  const insideAtClose: number[] = [];

  for (const seed of SEEDS) {
    it(`seed ${seed}: ${READERS} readers and a close at a random point; each read is right or SecretClosedError; none after close gets in`, async () => {
      const random = seededRandom(seed);
      const expected = Buffer.alloc(256);
      for (let i = 0; i < expected.length; i++) expected[i] = Math.floor(random() * 256);
      const secret = SecretFactory.create(Buffer.from(expected));
      const live = liveBufferCount();
      const closeAt = Math.floor(random() * (READERS + 1));
      const readers: { index: number; afterClose: boolean; outcome: Promise<'ok' | 'wrong' | 'closed' | string> }[] = [];
      let closing: Promise<void> | null = null;
      let closedSeen = false;

      const read = (): Promise<'ok' | 'wrong'> => {
        const kind = Math.floor(random() * 4);
        const check = (view: Uint8Array): 'ok' | 'wrong' => (view.length === expected.length && Buffer.compare(Buffer.from(view), expected) === 0 ? 'ok' : 'wrong');
        if (kind === 0) return secret.withBytes(check);
        const pauses = 1 + Math.floor(random() * 3);
        return secret.withBytes(async (view) => {
          let verdict = check(view);
          for (let p = 0; p < pauses; p++) {
            if (kind === 1) await Promise.resolve();
            else if (kind === 2) await settle();
            else await sleep(Math.floor(random() * 3));
            if (check(view) === 'wrong') verdict = 'wrong';
          }
          return verdict;
        });
      };

      for (let index = 0; index < READERS; index++) {
        if (index === closeAt) {
          insideAtClose.push(secret.accessors);
          closing = inOtherFlow(() => secret.close());
          void closing.then(() => (closedSeen = true));
        }
        // Interleave: sometimes let the readers started so far run before starting the next.
        const gap = random();
        if (gap < 0.15) await settle();
        else if (gap < 0.3) await Promise.resolve();
        const afterClose = closing !== null;
        readers.push({
          index,
          afterClose,
          outcome: read().catch((error: unknown) => (error instanceof SecretClosedError ? 'closed' : `unexpected ${String(error)}`)),
        });
      }
      if (closing === null) closing = secret.close();
      const outcomes = await Promise.all(readers.map((r) => r.outcome));
      await closing;
      assert.equal(closedSeen || closeAt === READERS, true);

      const unexpected = outcomes.filter((o) => o !== 'ok' && o !== 'closed');
      assert.deepEqual(unexpected, [], 'every read either saw the right bytes or was refused with SecretClosedError');
      // Those asked for after close() began were refused; those asked for before it were let in
      // (close keeps no reader out that asked before it, and waits for all of them).
      const refusedEarly = readers.filter((r, i) => !r.afterClose && outcomes[i] !== 'ok').map((r) => r.index);
      const admittedLate = readers.filter((r, i) => r.afterClose && outcomes[i] !== 'closed').map((r) => r.index);
      assert.deepEqual(refusedEarly, [], `readers before close at ${closeAt} that did not read`);
      assert.deepEqual(admittedLate, [], `readers after close at ${closeAt} that got in`);
      assert.equal(secret.accessors, 0);
      assert.equal(secret.isClosed, true);
      assert.equal(liveBufferCount(), live - 1, 'freed and unregistered');
    });
  }

  it('the seeds above closed while readers were inside their callbacks (the race was exercised)', () => {
    assert.ok(insideAtClose.filter((n) => n > 0).length >= SEEDS.length / 2, `readers inside at close: ${insideAtClose.join(', ')}`);
  });
});

describe('Secret: two first readers at once (child processes)', () => {
  // Each round starts two readers on an idle secret (accessors 0), in every mix of synchronous
  // and asynchronous callbacks, and every fifth round a third reader asks in while the first
  // leaves. Were counting and mprotect not done together under the lock, a reader would find the
  // memory no-access: SIGSEGV. That would kill this test runner, so the stress runs in a child,
  // where a fault is an ordinary failed assertion. Checked mode and fast mode schedule
  // differently (checked mode adds promise hooks), so both run.
  for (const checks of ['on', 'off']) {
    it(`2,000 rounds, checks ${checks}: every read sees the right bytes, no fault, accessors back to 0`, { timeout: 30_000 }, async () => {
      const result = await runChild('readers-child.ts', ['2000'], { env: { DEADBOLT_CHECKS: checks } });
      assert.equal(result.signal, null, describeEnd(result));
      assert.equal(result.code, 0, describeEnd(result));
      const out = resultLine<{ checks: boolean; rounds: number; reads: number; wrong: number; maxAccessors: number; notIdle: number; accessorsAtEnd: number }>(result.stdout);
      assert.equal(out.checks, checks === 'on');
      assert.equal(out.rounds, 2000);
      assert.equal(out.wrong, 0);
      assert.equal(out.notIdle, 0, 'every round started on an idle secret');
      assert.ok(out.maxAccessors >= 2, 'the readers really overlapped');
      assert.ok(out.reads >= 2000 * 2);
      assert.equal(out.accessorsAtEnd, 0);
    });
  }
});

describe('Secret: allocation accounting', () => {
  it('usage counts secrets like buffers', () => {
    const before = SecureRegion.usage.live;
    const secret = SecretFactory.random(8);
    assert.equal(SecureRegion.usage.live, before + 1);
    return secret.close();
  });
});
