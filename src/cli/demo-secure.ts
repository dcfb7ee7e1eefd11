import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { channels } from '../index.js';
import { Coffer, Enclave, LockedBuffer, purge, SecretFactory } from '../secure/index.js';
import type { DemoStep } from './demo.js';

const FLOWS = 20;
const ROUNDS = 10;

/**
 * The memguard system on deadbolt's ranks (coffer 10 < buffers 20 < buffer 30): many flows seal,
 * open and read secrets while the coffer re-keys every few ms, then a purge wipes everything.
 */
export async function secureStep(): Promise<DemoStep> {
  const title = `Secure memory on the ranks coffer < buffers < buffer: ${FLOWS} flows x ${ROUNDS} seal/open/read rounds while the coffer re-keys, then purge()`;
  const expected = 'every secret intact, 0 order violations, 0 deadlocks, everything wiped';
  let violations = 0;
  const count = (): void => void violations++;
  subscribe(channels.lockOrder, count);
  subscribe(channels.deadlock, count);
  const coffer = new Coffer({ rekeyIntervalMs: 2 });
  let intact = 0;
  let wrong = 0;
  try {
    await Promise.all(
      Array.from({ length: FLOWS }, async (_, flow) => {
        for (let round = 0; round < ROUNDS; round++) {
          const plain = Buffer.from(`flow ${flow} round ${round} secret`);
          const enclave = await Enclave.seal(LockedBuffer.from(Buffer.from(plain)), coffer);
          const opened = await enclave.open();
          const secret = SecretFactory.create(Buffer.from(plain));
          const same = (await opened.withBytes((bytes) => plain.equals(bytes))) && (await secret.withBytes((bytes) => plain.equals(bytes)));
          if (same) intact++;
          else wrong++;
          await new Promise((resolve) => setTimeout(resolve, 1));
          // Left alive on purpose for the purge below: one buffer and one secret per flow and round.
          if (round < ROUNDS - 1) await Promise.all([opened.destroy(), secret.close()]);
        }
      }),
    );
    const { rekeys, skippedRekeys } = coffer.stats;
    const wiped = await purge({ timeout: 1_000 });
    const ok = wrong === 0 && intact === FLOWS * ROUNDS && violations === 0 && wiped >= FLOWS * 2 && rekeys > 0;
    const outcome = `${intact}/${FLOWS * ROUNDS} intact, ${violations} violations, ${rekeys} re-keys (${skippedRekeys} skipped while busy), purge wiped ${wiped} buffers`;
    return { title, expected, outcome, ok, report: undefined };
  } finally {
    unsubscribe(channels.lockOrder, count);
    unsubscribe(channels.deadlock, count);
    await coffer.destroy();
  }
}
