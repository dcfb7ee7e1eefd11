// Many async flows seal, open, re-key, read, purge and destroy at once, in checked mode with the
// declared ranks (coffer 10 < buffers 20 < buffer/secret 30): no order violation, no deadlock,
// no timeout, and no lost or altered data.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { beforeEach, describe, it } from 'node:test';
import { channels, getConfig } from '../../src/index.js';
import { Coffer } from '../../src/secure/coffer.js';
import { Enclave } from '../../src/secure/enclave.js';
import { EnclaveOpenError, SecretClosedError } from '../../src/secure/errors.js';
import { LockedBuffer } from '../../src/secure/locked-buffer.js';
import { purge, PurgeError } from '../../src/secure/registry.js';
import { SecretFactory } from '../../src/secure/secret.js';
import { checkedMode, seededRandom } from '../support/helpers.js';

/** `npm run test:stress` sets DEADBOLT_STRESS=1 for the long run. */
const HEAVY = process.env.DEADBOLT_STRESS === '1';
const FLOWS = HEAVY ? 200 : 40;
const OPS = HEAVY ? 100 : 25;


describe(`secure stress: ${FLOWS} flows x ${OPS} ops in checked mode${HEAVY ? ' (heavy)' : ''}`, { timeout: 120_000 }, () => {
  beforeEach(checkedMode);

  it('seal, open, rekey, read, purge and destroy at once: zero violations, zero deadlocks, no lost data', async () => {
    assert.equal(getConfig().checks, true);
    const events = { deadlock: 0, lockOrder: 0, timeout: 0 };
    const onDeadlock = (): void => void events.deadlock++;
    const onOrder = (): void => void events.lockOrder++;
    const onTimeout = (): void => void events.timeout++;
    subscribe(channels.deadlock, onDeadlock);
    subscribe(channels.lockOrder, onOrder);
    subscribe(channels.timeout, onTimeout);
    const coffer = new Coffer({ rekeyIntervalMs: 5 });
    /**
     * Purges started, and purges running. An operation may fail as purged only if a purge ran
     * during it: one started meanwhile, or one was still running when it began.
     */
    let purges = 0;
    let purging = 0;
    const outcome = { sealed: 0, read: 0, purged: 0, rekeyed: 0, expectedLosses: 0, unexpected: [] as string[] };

    const begin = (): { epoch: number; duringPurge: boolean } => ({ epoch: purges, duringPurge: purging > 0 });
    const purgedSince = (start: { epoch: number; duringPurge: boolean }, error: unknown): boolean =>
      (start.duringPurge || start.epoch !== purges) && (error instanceof SecretClosedError || error instanceof EnclaveOpenError);

    async function sealAndOpen(next: () => number): Promise<void> {
      const epoch = begin();
      const expected = Buffer.from(Array.from({ length: 32 }, () => Math.floor(next() * 256)));
      try {
        const enclave = await Enclave.seal(LockedBuffer.from(Buffer.from(expected)), coffer);
        const opened = await enclave.open();
        const same = await opened.withBytes((bytes) => Buffer.from(bytes).equals(expected));
        await opened.destroy();
        if (!same) outcome.unexpected.push('an opened enclave held other bytes than were sealed');
        outcome.sealed++;
      } catch (error) {
        if (purgedSince(epoch, error)) outcome.expectedLosses++;
        else outcome.unexpected.push(`seal/open: ${String(error)}`);
      }
    }

    async function readSecret(next: () => number): Promise<void> {
      const epoch = begin();
      const expected = Buffer.from(Array.from({ length: 16 }, () => Math.floor(next() * 256)));
      try {
        const secret = SecretFactory.create(Buffer.from(expected));
        const reads = await Promise.all(Array.from({ length: 3 }, () => secret.withBytes((bytes) => Buffer.from(bytes).equals(expected))));
        await secret.close({ timeout: 5_000 });
        if (reads.some((same) => !same)) outcome.unexpected.push('a secret read other bytes than were stored');
        outcome.read++;
      } catch (error) {
        if (purgedSince(epoch, error)) outcome.expectedLosses++;
        else outcome.unexpected.push(`secret: ${String(error)}`);
      }
    }

    async function flow(id: number): Promise<void> {
      const next = seededRandom(1_000 + id);
      for (let op = 0; op < OPS; op++) {
        // Let the event loop turn, as I/O does in a real program: libsodium unmaps freed buffers
        // only in finalizers that run then, and a loop of promises alone would never let them.
        await new Promise((resolve) => setImmediate(resolve));
        const dice = next();
        if (dice < 0.45) await sealAndOpen(next);
        else if (dice < 0.8) await readSecret(next);
        else if (dice < 0.95) {
          await coffer.rekey({ timeout: 5_000 });
          outcome.rekeyed++;
        } else if (dice < 0.995) {
          const buffer = LockedBuffer.random(24);
          await buffer.destroy({ timeout: 5_000 });
        } else {
          purges++;
          purging++;
          try {
            await purge({ timeout: 5_000 });
            outcome.purged++;
          } catch (error) {
            outcome.unexpected.push(`purge: ${error instanceof PurgeError ? error.report : String(error)}`);
          } finally {
            purging--;
          }
        }
      }
    }

    try {
      await Promise.all(Array.from({ length: FLOWS }, (_, id) => flow(id)));
    } finally {
      unsubscribe(channels.deadlock, onDeadlock);
      unsubscribe(channels.lockOrder, onOrder);
      unsubscribe(channels.timeout, onTimeout);
      await coffer.destroy();
    }
    assert.deepEqual(outcome.unexpected, []);
    assert.deepEqual(events, { deadlock: 0, lockOrder: 0, timeout: 0 });
    // Purges wipe whatever is in use at the time, so some operations end as purged (allowed above).
    const summary = JSON.stringify({ ...outcome, unexpected: outcome.unexpected.length });
    assert.ok(outcome.sealed > FLOWS * OPS * 0.15, `enough seal/open round trips ran: ${summary}`);
    assert.ok(outcome.read > FLOWS * OPS * 0.1, `enough secret reads ran: ${summary}`);
    assert.ok(outcome.purged > 0 && outcome.rekeyed > 0, `purges (${outcome.purged}) and rekeys (${outcome.rekeyed}) ran among the rest`);
  });
});
