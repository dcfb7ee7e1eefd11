/**
 * Benchmark 3: one of the processes that update a shared JSON file, driven by the parent over IPC.
 *
 *   node store-worker.mjs <contender> <config JSON>
 *
 * config: { distUrl, file, scratch, proc, updates, group, warmup, maxMs }.
 *
 * The process warms up on a private scratch file (same code, `warmup` updates), opens the shared
 * file, sends { type: 'ready' } and waits for { type: 'go' } (the start barrier). It then issues
 * `updates` updates, each adding the key `p<proc>-<i>`, stopping early only if `maxMs` pass, and
 * sends { type: 'done', end, acked, errors, firstError, stoppedEarly }: `end` on the shared clock,
 * `acked` the indexes of the updates whose call resolved (the caller was told "committed").
 */
import { readFile } from 'node:fs/promises';
import { entry, now, runMain, writeSeedFile } from './common.mjs';

/** proper-lockfile under contention: poll quickly (1 ms, growing to 10 ms); deadbolt polls at 1 to 8 ms. */
const HAND_LOCK_OPTIONS = { realpath: false, retries: { retries: 2_000, factor: 1.5, minTimeout: 1, maxTimeout: 10 } };

/**
 * @returns {Promise<{ concurrent: boolean, update: (key: string, value: unknown) => Promise<unknown> }>}
 */
async function open(contender, file, config) {
  switch (contender) {
    case 'deadbolt-coalesce':
    case 'deadbolt-no-coalesce':
    case 'deadbolt-no-coalesce-no-fsync': {
      const { Store } = await import(config.distUrl);
      const options = contender === 'deadbolt-coalesce' ? {} : contender === 'deadbolt-no-coalesce' ? { coalesce: false } : { coalesce: false, fsync: false };
      const store = new Store(file, { initial: {}, ...options });
      store.get(); // loads the file, outside timed code
      return {
        concurrent: true,
        update: (key, value) =>
          store.update((draft) => {
            draft[key] = value;
          }),
      };
    }
    case 'lowdb': {
      const { JSONFilePreset } = await import('lowdb/node');
      const db = await JSONFilePreset(file, {});
      return {
        concurrent: false,
        update: (key, value) => {
          db.data[key] = value;
          return db.write();
        },
      };
    }
    case 'hand-lock':
    case 'hand-no-lock': {
      const { default: lockfile } = await import('proper-lockfile');
      const { default: writeFileAtomic } = await import('write-file-atomic');
      const readModifyWrite = async (key, value) => {
        const data = JSON.parse(await readFile(file, 'utf8'));
        data[key] = value;
        await writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`);
      };
      if (contender === 'hand-no-lock') return { concurrent: false, update: readModifyWrite };
      return {
        concurrent: false,
        update: async (key, value) => {
          const release = await lockfile.lock(file, HAND_LOCK_OPTIONS);
          try {
            await readModifyWrite(key, value);
          } finally {
            await release();
          }
        },
      };
    }
    default:
      throw new Error(`unknown contender ${contender}`);
  }
}

/** Issues `count` updates, one at a time, or (concurrent contenders) `group` at a time, awaiting each group; stops early at `stopAt`. */
async function issue(subject, prefix, proc, count, group, stopAt) {
  const acked = [];
  let errors = 0;
  let firstError = null;
  let i = 0;
  const failed = (error) => {
    errors++;
    firstError ??= String(error?.code ?? error?.message ?? error);
  };
  while (i < count && now() < stopAt) {
    if (subject.concurrent) {
      const size = Math.min(group, count - i);
      const calls = [];
      for (let k = 0; k < size; k++) calls.push(subject.update(`${prefix}${i + k}`, entry(i + k, proc)));
      const outcomes = await Promise.allSettled(calls);
      outcomes.forEach((outcome, k) => (outcome.status === 'fulfilled' ? acked.push(i + k) : failed(outcome.reason)));
      i += size;
    } else {
      try {
        await subject.update(`${prefix}${i}`, entry(i, proc));
        acked.push(i);
      } catch (error) {
        failed(error);
      }
      i++;
    }
  }
  return { acked, errors, firstError, stoppedEarly: i < count };
}

async function main() {
  const [contender, rawConfig] = process.argv.slice(2);
  const config = JSON.parse(rawConfig ?? '');
  const go = new Promise((resolve) => process.on('message', (message) => message?.type === 'go' && resolve()));

  // Warm-up on a private file, so the JIT has seen the code before the barrier.
  writeSeedFile(config.scratch, contender.startsWith('deadbolt'));
  const scratch = await open(contender, config.scratch, config);
  await issue(scratch, 'w-', config.proc, config.warmup, config.group, Infinity);

  const subject = await open(contender, config.file, config);
  process.send({ type: 'ready' });
  await go;
  const outcome = await issue(subject, `p${config.proc}-`, config.proc, config.updates, config.group, now() + config.maxMs);
  const end = now();
  process.send({ type: 'done', end, ...outcome }, () => process.disconnect());
}

runMain(main);
