import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { DeadlockError, LockOrderError, LockTimeoutError, RwLock, type Guard } from '../../src/index.js';
import { contend, deferred } from '../support/flows.js';
import { checkedMode, fastMode, inOtherFlow, rejectionOf, settle } from '../support/helpers.js';

for (const mode of ['fast', 'checked'] as const) {
  describe(`RwLock (${mode} mode)`, { timeout: 20_000 }, () => {
    beforeEach(() => (mode === 'fast' ? fastMode() : checkedMode()));

    it('is free when new', () => {
      const rw = new RwLock();
      assert.equal(rw.readers, 0);
      assert.equal(rw.isWriteLocked, false);
      assert.equal(rw.waiting, 0);
    });

    it('readers share the lock, and the readers getter counts them', async () => {
      const rw = new RwLock();
      const first = await rw.read();
      assert.equal(rw.readers, 1);
      const second = contend(() => rw.read());
      const third = contend(() => rw.read());
      await Promise.all([second.done, third.done]);
      assert.equal(rw.readers, 3);
      assert.equal(rw.isWriteLocked, false);
      assert.equal(rw.waiting, 0);
      first.release();
      assert.equal(rw.readers, 2);
      second.release();
      third.release();
      assert.equal(rw.readers, 0);
      assert.equal(first.held, false);
    });

    it('a writer has the lock alone', async () => {
      const rw = new RwLock();
      const writer = await rw.write();
      assert.equal(rw.isWriteLocked, true);
      assert.equal(rw.readers, 0);
      assert.equal(writer.held, true);
      assert.equal(inOtherFlow(() => rw.tryRead()), null);
      assert.equal(inOtherFlow(() => rw.tryWrite()), null);
      assert.ok((await rejectionOf(inOtherFlow(() => rw.read({ timeout: 20 })))) instanceof LockTimeoutError);
      assert.ok((await rejectionOf(inOtherFlow(() => rw.write({ timeout: 0 })))) instanceof LockTimeoutError);
      assert.equal(rw.isWriteLocked, true);
      assert.equal(rw.waiting, 0);
      writer.release();
      assert.equal(rw.isWriteLocked, false);
      assert.equal(writer.held, false);
    });

    it('a writer waits for every reader to leave', async () => {
      const rw = new RwLock();
      const first = await rw.read();
      const second = contend(() => rw.read());
      await second.done;
      const writer = contend(() => rw.write());
      await settle();
      assert.equal(writer.granted, false);
      assert.equal(rw.waiting, 1);
      first.release();
      await settle();
      assert.equal(writer.granted, false, 'one reader still holds the lock');
      second.release();
      await writer.done;
      assert.equal(rw.isWriteLocked, true);
      assert.equal(rw.readers, 0);
      writer.release();
      assert.equal(rw.isWriteLocked, false);
    });

    it('readers queued behind a writer are let in when it releases', async () => {
      const rw = new RwLock();
      const writer = await rw.write();
      const readers = [contend(() => rw.read()), contend(() => rw.read())];
      await settle();
      assert.deepEqual(
        readers.map((r) => r.granted),
        [false, false],
      );
      writer.release();
      await Promise.all(readers.map((r) => r.done));
      assert.equal(rw.readers, 2);
      for (const r of readers) r.release();
      assert.equal(rw.readers, 0);
    });

    it('a queued writer holds back readers that arrive after it', async () => {
      const rw = new RwLock();
      const order: string[] = [];
      const reader = await rw.read();
      const writer = contend(
        () => rw.write(),
        () => order.push('writer'),
      );
      await settle();
      const lateReader = contend(
        () => rw.read(),
        () => order.push('late reader'),
      );
      await settle();
      // A reader holds the lock, so a reader could share it, but the queued writer comes first.
      assert.equal(lateReader.granted, false);
      assert.equal(rw.readers, 1);
      assert.equal(rw.waiting, 2);
      reader.release();
      await writer.done;
      await settle();
      assert.equal(lateReader.granted, false, 'the late reader waits for the writer to finish');
      assert.equal(rw.isWriteLocked, true);
      writer.release();
      await lateReader.done;
      assert.deepEqual(order, ['writer', 'late reader']);
      assert.equal(rw.readers, 1);
      lateReader.release();
    });

    it('consecutive readers at the head are let in together, not past the next writer', async () => {
      const rw = new RwLock();
      const writer = await rw.write();
      const r1 = contend(() => rw.read());
      const r2 = contend(() => rw.read());
      const r3 = contend(() => rw.read());
      const w2 = contend(() => rw.write());
      const r4 = contend(() => rw.read());
      await settle();
      assert.equal(rw.waiting, 5);
      writer.release();
      await settle();
      assert.deepEqual(
        [r1, r2, r3, w2, r4].map((c) => c.granted),
        [true, true, true, false, false],
      );
      assert.equal(rw.readers, 3);
      assert.equal(rw.waiting, 2);
      r1.release();
      r2.release();
      await settle();
      assert.equal(w2.granted, false);
      r3.release();
      await w2.done;
      await settle();
      assert.equal(r4.granted, false);
      w2.release();
      await r4.done;
      r4.release();
      assert.equal(rw.readers, 0);
      assert.equal(rw.isWriteLocked, false);
    });

    it('neither side starves: alternating readers and writers complete in arrival order, never overlapping', { timeout: 10_000 }, async () => {
      const rw = new RwLock();
      const pattern = ['R', 'R', 'W', 'R', 'W', 'W', 'R', 'R', 'R', 'W', 'R', 'W'] as const;
      const granted: number[] = [];
      const violations: string[] = [];
      let activeReaders = 0;
      let activeWriters = 0;
      let maxReaders = 0;
      const blocker = await rw.write();
      const runs = pattern.map((kind, index) =>
        inOtherFlow(() =>
          kind === 'R'
            ? rw.runRead(async () => {
                granted.push(index);
                if (activeWriters !== 0) violations.push(`reader ${index} ran with a writer`);
                activeReaders++;
                maxReaders = Math.max(maxReaders, activeReaders);
                await settle();
                activeReaders--;
              })
            : rw.runWrite(async () => {
                granted.push(index);
                if (activeWriters !== 0 || activeReaders !== 0) violations.push(`writer ${index} ran with others`);
                activeWriters++;
                await settle();
                activeWriters--;
              }),
        ),
      );
      await settle();
      assert.equal(rw.waiting, pattern.length);
      blocker.release();
      await Promise.all(runs);
      assert.deepEqual(violations, []);
      assert.deepEqual(
        granted,
        pattern.map((_, index) => index),
      );
      assert.equal(maxReaders, 3, 'the three consecutive readers held the lock together');
      assert.equal(rw.readers, 0);
      assert.equal(rw.isWriteLocked, false);
    });

    it('a stream of readers does not starve a writer', { timeout: 10_000 }, async () => {
      const rw = new RwLock();
      const events: string[] = [];
      let stop = false;
      // Readers that overlap each other, so the lock would never be free without writer preference.
      const readerLoop = (id: number): Promise<void> =>
        inOtherFlow(async () => {
          for (let i = 0; !stop && i < 200; i++) {
            await rw.runRead(async () => {
              events.push(`r${id}`);
              await settle();
            });
          }
        });
      const loops = [readerLoop(1), readerLoop(2), readerLoop(3)];
      await settle();
      await settle();
      const writer = inOtherFlow(() => rw.runWrite(() => events.push('w')));
      await writer;
      stop = true;
      await Promise.all(loops);
      const at = events.indexOf('w');
      assert.ok(at > 0, 'the writer got the lock while readers were streaming');
      assert.ok(at < 30, `the writer waited behind ${at} read holds`);
    });

    it('tryRead fails while a writer holds or waits, and never queues', async () => {
      const rw = new RwLock();
      const reader = inOtherFlow(() => rw.tryRead());
      assert.ok(reader, 'tryRead succeeds when the lock is free');
      assert.equal(rw.readers, 1);
      const another = inOtherFlow(() => rw.tryRead());
      assert.ok(another, 'tryRead shares with readers');
      assert.equal(rw.readers, 2);
      another.release();

      const controller = new AbortController();
      const writer = contend(() => rw.write({ signal: controller.signal }));
      await settle();
      assert.equal(rw.waiting, 1);
      assert.equal(inOtherFlow(() => rw.tryRead()), null, 'a waiting writer holds back tryRead');
      assert.equal(rw.readers, 1);
      assert.equal(rw.waiting, 1, 'tryRead did not queue');
      controller.abort(new Error('give up'));
      await rejectionOf(writer.done);
      const again = inOtherFlow(() => rw.tryRead());
      assert.ok(again, 'tryRead succeeds once the writer is gone');
      again.release();
      reader.release();

      const held = await rw.write();
      assert.equal(inOtherFlow(() => rw.tryRead()), null, 'a holding writer fails tryRead');
      assert.equal(rw.waiting, 0);
      held.release();
      assert.equal(rw.readers, 0);
    });

    it('tryWrite succeeds only when nobody holds the lock or waits', async () => {
      const rw = new RwLock();
      const writer = inOtherFlow(() => rw.tryWrite());
      assert.ok(writer);
      assert.equal(rw.isWriteLocked, true);
      assert.equal(inOtherFlow(() => rw.tryWrite()), null);
      writer.release();
      assert.equal(rw.isWriteLocked, false);

      const reader = await rw.read();
      assert.equal(inOtherFlow(() => rw.tryWrite()), null, 'a reader fails tryWrite');
      assert.equal(rw.isWriteLocked, false);
      assert.equal(rw.waiting, 0, 'tryWrite did not queue');
      reader.release();

      const again = inOtherFlow(() => rw.tryWrite());
      assert.ok(again);
      again.release();
    });

    it('runRead and runWrite return the result, hold the right mode, and release on throw', async () => {
      const rw = new RwLock();
      assert.equal(
        await rw.runRead(() => {
          assert.equal(rw.readers, 1);
          assert.equal(rw.isWriteLocked, false);
          return 7;
        }),
        7,
      );
      assert.equal(
        await rw.runWrite(async () => {
          assert.equal(rw.isWriteLocked, true);
          assert.equal(rw.readers, 0);
          await settle();
          return 'written';
        }),
        'written',
      );
      const readFailure = new Error('read failed');
      assert.equal(
        await rejectionOf(
          rw.runRead(() => {
            throw readFailure;
          }),
        ),
        readFailure,
      );
      assert.equal(rw.readers, 0);
      const writeFailure = new Error('write failed');
      assert.equal(
        await rejectionOf(
          rw.runWrite(async () => {
            await settle();
            throw writeFailure;
          }),
        ),
        writeFailure,
      );
      assert.equal(rw.isWriteLocked, false);
      const after = inOtherFlow(() => rw.tryWrite());
      assert.ok(after, 'the lock is free after the throws');
      after.release();
    });

    it('runRead waits for a writer and runWrite for readers', async () => {
      const rw = new RwLock();
      const order: string[] = [];
      const writer = await rw.write();
      const read = inOtherFlow(() => rw.runRead(() => order.push('read')));
      await settle();
      assert.equal(order.length, 0, 'the reader waits for the writer');
      writer.release();
      await read;
      const reader = await rw.read();
      const write = inOtherFlow(() => rw.runWrite(() => order.push('write')));
      await settle();
      assert.deepEqual(order, ['read']);
      reader.release();
      await write;
      assert.deepEqual(order, ['read', 'write']);
    });

    it('reader and writer are specs of this lock', () => {
      const rw = new RwLock();
      const reader = rw.reader;
      const writer = rw.writer;
      assert.equal(reader.lock, rw);
      assert.equal(reader.mode, 'shared');
      assert.equal(reader.weight, 1);
      assert.equal(writer.lock, rw);
      assert.equal(writer.mode, 'exclusive');
      assert.equal(writer.weight, 1);
      assert.equal(rw.readers, 0, 'making a spec takes nothing');
      assert.equal(rw.isWriteLocked, false);
    });

    it('a queued writer that times out lets the readers behind it in at once', async () => {
      const rw = new RwLock({ name: `rw-timeout-${mode}` });
      const reader = await rw.read();
      const writer = contend(() => rw.write({ timeout: 30 }));
      await settle();
      const behind = [contend(() => rw.read()), contend(() => rw.read())];
      const laterWriter = contend(() => rw.write());
      const lastReader = contend(() => rw.read());
      await settle();
      assert.equal(rw.waiting, 5);
      assert.ok(behind.every((r) => !r.granted));
      const error = await rejectionOf(writer.done);
      assert.ok(error instanceof LockTimeoutError);
      assert.equal(error.timeout, 30);
      await Promise.all(behind.map((r) => r.done));
      // The first reader still holds: the readers came in because the writer left, not because of a release.
      assert.equal(reader.held, true);
      assert.equal(rw.readers, 3);
      await settle();
      assert.equal(laterWriter.granted, false, 'the later writer still waits for the readers');
      assert.equal(lastReader.granted, false, 'the last reader still waits behind the later writer');
      assert.equal(rw.waiting, 2);
      reader.release();
      for (const r of behind) r.release();
      await laterWriter.done;
      laterWriter.release();
      await lastReader.done;
      lastReader.release();
      assert.equal(rw.readers, 0);
      assert.equal(rw.waiting, 0);
    });

    it('a queued writer that is aborted lets the readers behind it in at once', async () => {
      const rw = new RwLock();
      const reader = await rw.read();
      const controller = new AbortController();
      const writer = contend(() => rw.write({ signal: controller.signal }));
      await settle();
      const behind = [contend(() => rw.read()), contend(() => rw.read())];
      await settle();
      assert.ok(behind.every((r) => !r.granted));
      const reason = new Error('cancelled');
      controller.abort(reason);
      assert.equal(await rejectionOf(writer.done), reason);
      await settle();
      assert.ok(behind.every((r) => r.granted));
      assert.equal(rw.readers, 3);
      assert.equal(rw.waiting, 0);
      reader.release();
      for (const r of behind) r.release();
      assert.equal(rw.readers, 0);
      const free = inOtherFlow(() => rw.tryWrite());
      assert.ok(free);
      free.release();
    });

    it('an aborted writer with a writer right behind it lets no reader in', async () => {
      const rw = new RwLock();
      const reader = await rw.read();
      const controller = new AbortController();
      const first = contend(() => rw.write({ signal: controller.signal }));
      const second = contend(() => rw.write());
      const late = contend(() => rw.read());
      await settle();
      controller.abort(new Error('stop'));
      await rejectionOf(first.done);
      await settle();
      assert.equal(second.granted, false);
      assert.equal(late.granted, false);
      assert.equal(rw.readers, 1);
      reader.release();
      await second.done;
      second.release();
      await late.done;
      late.release();
    });

    it('rejects bad options with errors that name the lock and method', async () => {
      const rw = new RwLock({ name: 'rw-opts' });
      await assert.rejects(rw.read({ timeout: -1 }), { name: 'RangeError', message: /RwLock "rw-opts"\.read\(\): timeout must be/ });
      await assert.rejects(rw.write({ timeout: Number.NaN }), { name: 'RangeError', message: /RwLock "rw-opts"\.write\(\)/ });
      await assert.rejects(
        rw.runRead(() => 1, { signal: {} as AbortSignal }),
        { name: 'TypeError', message: /runRead\(\): signal must be an AbortSignal/ },
      );
      const reason = new Error('already');
      assert.equal(await rejectionOf(rw.write({ signal: AbortSignal.abort(reason) })), reason);
      assert.equal(rw.readers, 0);
      assert.equal(rw.isWriteLocked, false);
    });

    if (mode === 'checked') {
      it('a read taken twice in one flow is a recursive LockOrderError', async () => {
        const rw = new RwLock();
        const reader = await rw.read();
        const error = await rejectionOf(rw.read());
        assert.ok(error instanceof LockOrderError);
        assert.equal(error.kind, 'recursive');
        assert.equal(rw.readers, 1);
        reader.release();
        assert.equal(rw.readers, 0);
      });

      it('upgrading a read to a write in one flow is a DeadlockError, not a hang', async () => {
        const rw = new RwLock();
        const reader = await rw.read();
        const error = await rejectionOf(rw.write());
        assert.ok(error instanceof DeadlockError);
        assert.equal(rw.waiting, 0);
        assert.equal(rw.readers, 1);
        reader.release();
      });

      it('a flow holding the write lock that asks again is a DeadlockError', async () => {
        const rw = new RwLock();
        const writer: Guard = await rw.write();
        assert.ok((await rejectionOf(rw.write())) instanceof DeadlockError);
        assert.ok((await rejectionOf(rw.read())) instanceof DeadlockError);
        assert.equal(rw.waiting, 0);
        writer.release();
      });

      it('independent readers in other flows are fine', async () => {
        const rw = new RwLock();
        const gate = deferred();
        const readers = [1, 2, 3].map(() =>
          inOtherFlow(() =>
            rw.runRead(async () => {
              await gate.promise;
            }),
          ),
        );
        await settle();
        assert.equal(rw.readers, 3);
        gate.resolve();
        await Promise.all(readers);
        assert.equal(rw.readers, 0);
      });
    }
  });
}
