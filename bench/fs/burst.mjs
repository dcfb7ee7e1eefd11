/**
 * Benchmark 4, one contender per process: the time to commit 100 updates.
 *
 *   node burst.mjs <deadbolt|lowdb> <config JSON>
 *
 * deadbolt: 100 concurrent `store.update()` calls (coalescing on, the default; fsync on, the
 * default), timed until all 100 have resolved. lowdb: 100 sequential `db.data[k] = v; await
 * db.write()`. Every trial starts from a fresh file of 100 keys (opened and loaded untimed), so all
 * trials do the same work. config: { distUrl, dir, size, warmupTrials, trials }. Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entry, report, runMain, settle, writeSeedFile, SEED_KEYS } from './common.mjs';

/** Opens a fresh seeded file and returns the timed part: commit the updates of `keys`. */
async function open(contender, config, file) {
  if (contender === 'deadbolt') {
    const { Store } = await import(config.distUrl);
    writeSeedFile(file, true);
    const store = new Store(file, { initial: {} });
    store.get();
    return async (keys) => {
      const calls = keys.map((key, n) =>
        store.update((draft) => {
          draft[key] = entry(n, 0);
        }),
      );
      await Promise.all(calls);
    };
  }
  if (contender === 'lowdb') {
    const { JSONFilePreset } = await import('lowdb/node');
    writeSeedFile(file, false);
    const db = await JSONFilePreset(file, {});
    return async (keys) => {
      for (let n = 0; n < keys.length; n++) {
        db.data[keys[n]] = entry(n, 0);
        await db.write();
      }
    };
  }
  throw new Error(`unknown contender ${contender}`);
}

async function main() {
  const [contender, rawConfig] = process.argv.slice(2);
  const config = JSON.parse(rawConfig ?? '');
  const trialsMs = [];
  const total = config.warmupTrials + config.trials;
  for (let t = 0; t < total; t++) {
    const file = join(config.dir, `store-${t}.json`);
    const commit = await open(contender, config, file);
    const keys = Array.from({ length: config.size }, (_, n) => `t${t}-${n}`);
    await settle();
    const start = performance.now();
    await commit(keys);
    const ms = performance.now() - start;
    if (t >= config.warmupTrials) trialsMs.push(ms);
    // Every update must be in the file.
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    const found = Object.keys(contender === 'deadbolt' ? parsed.data : parsed).length;
    if (found !== SEED_KEYS + config.size) throw new Error(`${contender} trial ${t}: ${found} keys in the file, expected ${SEED_KEYS + config.size}`);
  }
  report({ contender, trialsMs });
}

runMain(main);
