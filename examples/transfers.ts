/**
 * Two bank transfers that lock accounts in opposite orders: the textbook AB/BA deadlock.
 * With every other npm lock this program hangs. With deadbolt in checked mode, the transfer
 * that closes the cycle is rejected with a DeadlockError (and its report), the other completes,
 * and the lockAll version completes both.
 *
 *   npx tsx examples/transfers.ts
 */
import { DeadlockError, lockAll, Mutex } from '../src/index.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class Account {
  readonly lock: Mutex;
  constructor(
    readonly name: string,
    public balance: number,
  ) {
    this.lock = new Mutex({ name: `account:${name}` });
  }
}

/** The naive version: lock the source, then the destination. */
async function transfer(from: Account, to: Account, amount: number): Promise<void> {
  await using _source = await from.lock.lock();
  await sleep(10); // e.g. an audit call, while holding the source account
  await using _destination = await to.lock.lock();
  from.balance -= amount;
  to.balance += amount;
}

/** The safe version: take both accounts together, in deadbolt's consistent order. */
async function safeTransfer(from: Account, to: Account, amount: number): Promise<void> {
  await using _both = await lockAll([from.lock, to.lock], { timeout: 1_000 });
  await sleep(10);
  from.balance -= amount;
  to.balance += amount;
}

export async function main(): Promise<{ naive: string[]; safe: string[] }> {
  const alice = new Account('alice', 100);
  const bob = new Account('bob', 100);
  const describe = (result: PromiseSettledResult<void>): string =>
    result.status === 'fulfilled' ? 'done' : result.reason instanceof DeadlockError ? 'DeadlockError' : String(result.reason);

  const naive = await Promise.allSettled([transfer(alice, bob, 10), transfer(bob, alice, 20)]);
  const rejected = naive.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejected !== undefined && rejected.reason instanceof DeadlockError) console.log(rejected.reason.report, '\n');

  const safe = await Promise.allSettled([safeTransfer(alice, bob, 10), safeTransfer(bob, alice, 20)]);
  console.log(`naive: ${naive.map(describe).join(', ')}; with lockAll: ${safe.map(describe).join(', ')}`);
  console.log(`balances: alice ${alice.balance}, bob ${bob.balance} (total ${alice.balance + bob.balance})`);
  return { naive: naive.map(describe), safe: safe.map(describe) };
}

if (process.argv[1]?.endsWith('transfers.ts')) await main();
