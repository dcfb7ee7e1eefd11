import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;

describe('deadbolt demo', () => {
  it('runs the seed scenario from the built CLI and every step behaves as promised', () => {
    const started = performance.now();
    const result = spawnSync(process.execPath, ['dist/cli/main.js', 'demo'], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
    const elapsed = performance.now() - started;
    assert.equal(result.status, 0, result.stderr + result.stdout);
    const out = result.stdout;
    assert.match(out, /1\. Rank violation[\s\S]*got: +LockOrderError \(ERR_LOCK_ORDER\) +\[ok\]/);
    assert.match(out, /2\. Order inversion[\s\S]*got: +LockOrderError \(ERR_LOCK_ORDER\) +\[ok\]/);
    assert.match(out, /3\. A real AB\/BA deadlock[\s\S]*got: +done, rejected: DeadlockError in \d+ ms +\[ok\]/);
    assert.match(out, /Wait-for cycle:/);
    assert.match(out, /4\. The same transfers with checks off[\s\S]*rejected: LockTimeoutError[\s\S]*\[ok\]/);
    assert.match(out, /5\. lockAll makes the same work safe[\s\S]*done, done, done, done +\[ok\]/);
    assert.match(out, /6\. The machine registry on Store: 4 processes x 25[\s\S]*got: +101 machines in \d+ coalesced writes, \d+ ms, 0 temp files left +\[ok\]/);
    assert.match(out, /flowchart LR/);
    const file = /(c\d+)\["machine-registry\.file"\]/.exec(out)?.[1];
    const memory = /(c\d+)\["machine-registry\.memory"\]/.exec(out)?.[1];
    assert.ok(file !== undefined && memory !== undefined, 'the registry locks are in the learned graph');
    assert.ok(out.includes(`${file} --> ${memory}`), 'the learned order puts the file lock before the memory lock');
    assert.match(out, /7\. Secure memory on the ranks coffer < buffers < buffer[\s\S]*got: +200\/200 intact, 0 violations, \d+ re-keys \(\d+ skipped while busy\), purge wiped \d+ buffers +\[ok\]/);
    assert.match(out, /All 7 steps behaved as expected\./);
    assert.ok(elapsed < 10_000);
  });

  it('rejects extra arguments', () => {
    const result = spawnSync(process.execPath, ['dist/cli/main.js', 'demo', '--fast'], { cwd: root, encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /takes no arguments/);
  });
});

describe('deadbolt --version', () => {
  it("prints deadbolt's own version, also when run by another package's npm script", () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = spawnSync(process.execPath, ['dist/cli/main.js', '--version'], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_package_version: '9.9.9' } });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), version);
  });
});
