/**
 * Benchmark 2: recovery after the holder is SIGKILLed. Two roles, each its own process, driven by
 * the parent over IPC:
 *
 *   node recovery.mjs holder <deadbolt|proper-lockfile> <config JSON>
 *     takes the lock, sends { type: 'ready' }, and holds it until it is killed.
 *   node recovery.mjs waiter <deadbolt|proper-lockfile> <config JSON>
 *     starts waiting for the lock, sends { type: 'waiting' }; once it has the lock, sends
 *     { type: 'acquired', at } (at: the shared clock, see common.mjs), releases it and exits.
 *
 * config: { distUrl, file }. For deadbolt `file` is the lock file; for proper-lockfile it is the
 * data file, whose `<file>.lock` directory is the lock.
 */
import { now, runMain } from './common.mjs';

/** proper-lockfile: 2000 ms is the smallest `stale` it accepts. The holder must use it too: its
 * mtime update interval is stale / 2 (1000 ms), which must stay below the waiter's `stale`, or
 * the waiter would take the lock from a live holder. */
const PROPER_STALE = 2000;

async function take(role, contender, config) {
  if (contender === 'deadbolt') {
    const { FileLock } = await import(config.distUrl);
    const lock = new FileLock(config.file);
    return role === 'holder' ? lock.lock() : lock.lock({ timeout: 10_000 });
  }
  if (contender === 'proper-lockfile') {
    const { default: lockfile } = await import('proper-lockfile');
    if (role === 'holder') return lockfile.lock(config.file, { stale: PROPER_STALE, realpath: false });
    return lockfile.lock(config.file, { stale: PROPER_STALE, realpath: false, retries: { retries: 100, minTimeout: 50, maxTimeout: 100 } });
  }
  throw new Error(`unknown contender ${contender}`);
}

async function main() {
  const [role, contender, rawConfig] = process.argv.slice(2);
  const config = JSON.parse(rawConfig ?? '');
  if (role === 'holder') {
    await take(role, contender, config);
    process.send({ type: 'ready' });
    // Hold until SIGKILL (the IPC channel alone would also keep the process alive).
    setInterval(() => undefined, 60_000);
    return;
  }
  if (role !== 'waiter') throw new Error(`unknown role ${role}`);
  let acquiredAt = null;
  const pending = take(role, contender, config).then((held) => {
    acquiredAt = now();
    return held;
  });
  // The lock call has started: report that we are waiting. (The parent fails the trial if the
  // lock comes before the holder's kill.)
  process.send({ type: 'waiting' });
  const held = await pending;
  process.send({ type: 'acquired', at: acquiredAt });
  if (typeof held === 'function') await held();
  else held.release();
  process.disconnect();
}

runMain(main);
