import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'deadbolt-dual-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string): { stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, DEADBOLT_FS_REGISTRY: join(dir, 'registry') } });
  return { stdout: result.stdout.trim(), stderr: result.stderr };
}

describe('deadbolt/fs as a package', () => {
  it('resolves through the package exports, and the ESM and CJS builds share one lock per file', () => {
    const lock = join(dir, 'dual.lock');
    const script = `import { createRequire } from 'node:module';
      const esm = await import('deadbolt/fs');
      const cjs = createRequire(process.cwd() + '/')('deadbolt/fs');
      const core = await import('deadbolt');
      const a = new esm.FileLock(${JSON.stringify(lock)}); const b = new cjs.FileLock(${JSON.stringify(lock)});
      const g = await a.lock();
      // One core: the CJS copy sees the hold in this process instead of opening a second descriptor.
      console.log(b.tryLock() === null, b.heldMode);
      const waited = await core.detached(() => b.lock({ timeout: 20 })).catch((e) => e.code);
      g.release();
      const g2 = b.tryLock('shared');
      console.log(waited, g2 !== null, a.heldMode);
      g2.release();
      console.log(typeof esm.Store, typeof cjs.writeFileAtomic, esm.StoreCorruptError === undefined);`;
    const output = run(script);
    assert.equal(output.stdout, 'true exclusive\nERR_LOCK_TIMEOUT true shared\nfunction function false', output.stderr);
  });
});
