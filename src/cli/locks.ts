import { cleanStaleLocks, inspectLocks } from '../fs/index.js';

/**
 * `deadbolt locks <dir> [--clean]`: who holds the file locks in a directory, from the holder
 * records beside them; `--clean` removes the records of dead holders (never a lock file).
 */
export async function locksCommand(args: readonly string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const clean = args.includes('--clean');
  const rest = args.filter((arg) => arg !== '--clean');
  if (rest.length !== 1 || (rest[0] as string).startsWith('-')) {
    err('usage: deadbolt locks <dir> [--clean]');
    return 2;
  }
  const dir = rest[0] as string;
  let locks;
  try {
    locks = await inspectLocks(dir);
  } catch (error) {
    err(`deadbolt locks: cannot read ${dir}: ${(error as Error).message}`);
    return 1;
  }
  if (locks.length === 0) out(`no lock records in ${dir}`);
  for (const { lock, holders } of locks) {
    out(holders.length === 0 ? `${lock}: free (no holder recorded)` : `${lock}:`);
    for (const holder of holders) {
      out(`  ${holder.mode.padEnd(9)} pid ${holder.pid} on ${holder.host}, since ${holder.since}, as "${holder.name}"${holder.alive ? '' : '  [dead: stale record]'}`);
    }
  }
  if (clean) {
    const removed = await cleanStaleLocks(dir);
    out(`removed ${removed.length} stale record${removed.length === 1 ? '' : 's'}`);
    for (const file of removed) out(`  ${file}`);
  }
  return 0;
}
