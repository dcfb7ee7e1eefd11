// deadbolt/threads loaded twice in one thread (its ESM and its CJS build, as a program mixing
// import and require gets): both copies must use one arena slot and one core per shared lock,
// or the thread would hold a lock against itself and its waits would be published twice.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;

describe('deadbolt/threads as a package', () => {
  it('the ESM and CJS builds share one arena and one lock per shared lock', () => {
    const script = `import { createRequire } from 'node:module';
      const esm = await import('deadbolt/threads');
      const cjs = createRequire(process.cwd() + '/')('deadbolt/threads');
      const core = await import('deadbolt');
      const a = new esm.SharedMutex({ name: 'dual' });
      const b = cjs.SharedMutex.from(a.handle);
      const g = await a.lock();
      // One core: the CJS copy queues in the same in-thread FIFO instead of spinning on the word.
      const refused = (() => { try { b.lockSync({ timeout: 10 }); return 'granted'; } catch (e) { return e.message.includes('another flow of this thread') ? 'refused' : e.message; } })();
      const waited = await core.detached(() => b.lock({ timeout: 20 })).catch((e) => e.code);
      g.release();
      const g2 = b.tryLock();
      console.log(refused, waited, g2 !== null, esm.threadsContext().arena === cjs.threadsContext().arena);
      g2.release();
      const s = new cjs.SharedSemaphore(2, { name: 'dual-sem' });
      console.log(esm.SharedSemaphore.from(s.handle).permits);`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, DEADBOLT_CHECKS: 'off' } });
    assert.equal(result.stdout.trim(), 'refused ERR_LOCK_TIMEOUT true true\n2', result.stderr);
  });
});
