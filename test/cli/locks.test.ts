import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'deadbolt-cli-locks-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/cli/main.js', 'locks', ...args], { cwd: root, encoding: 'utf8' });

/** A process that holds `lock` until killed, and says so once its holder record is written. */
function holder(lock: string, mode: 'exclusive' | 'shared'): Promise<ChildProcess> {
  const script = `const { FileLock } = await import('deadbolt/fs');
    await new FileLock(${JSON.stringify(lock)}).lock({ mode: ${JSON.stringify(mode)} });
    setTimeout(() => console.log('held'), 50); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DEADBOLT_FS_REGISTRY: join(dir, 'registry') } });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
}

describe('deadbolt locks', () => {
  it('lists holders with pid and mode, marks dead ones, and --clean removes only their records', async () => {
    const live = await holder(join(dir, 'live.lock'), 'shared');
    const doomed = await holder(join(dir, 'doomed.lock'), 'exclusive');
    const listed = cli(dir);
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`live\\.lock:\\n  shared +pid ${live.pid} on `));
    assert.match(listed.stdout, new RegExp(`doomed\\.lock:\\n  exclusive +pid ${doomed.pid} on `));
    assert.doesNotMatch(listed.stdout, /\[dead/);
    doomed.kill('SIGKILL');
    await new Promise((resolve) => doomed.once('exit', resolve));
    assert.match(cli(dir).stdout, new RegExp(`pid ${doomed.pid} .*\\[dead: stale record\\]`));
    const cleaned = cli(dir, '--clean');
    assert.match(cleaned.stdout, /removed 1 stale record\n/);
    assert.match(cleaned.stdout, new RegExp(`doomed\\.lock\\.holders/${doomed.pid}@`));
    assert.ok(existsSync(join(dir, 'doomed.lock')), 'the lock file stays');
    const after = cli(dir).stdout;
    assert.match(after, /doomed\.lock: free/);
    assert.match(after, new RegExp(`live\\.lock:\\n  shared +pid ${live.pid}`));
  });

  it('explains its usage and a missing directory', () => {
    const usage = cli();
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: deadbolt locks <dir> \[--clean\]/);
    const missing = cli(join(dir, 'nope'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /cannot read .*nope: ENOENT/);
  });
});
