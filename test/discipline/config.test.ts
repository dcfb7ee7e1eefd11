import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import { configure, getConfig } from '../../src/index.js';
import { checkedMode } from '../support/helpers.js';

const root = new URL('../../', import.meta.url).pathname;

/** Runs a one-line ESM script against the built package in a child process with `env`. */
function runWithEnv(env: Record<string, string | undefined>, script: string): { status: number | null; stdout: string; stderr: string } {
  const merged: Record<string, string | undefined> = { ...process.env, NODE_ENV: undefined, DEADBOLT_CHECKS: undefined, ...env };
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, env: merged as NodeJS.ProcessEnv, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

const PRINT_CHECKS = "import { getConfig } from './dist/index.js'; console.log(getConfig().checks);";

describe('configuration', () => {
  afterEach(checkedMode);

  it('checked mode is on by default and off under NODE_ENV=production', () => {
    assert.equal(runWithEnv({}, PRINT_CHECKS).stdout, 'true');
    assert.equal(runWithEnv({ NODE_ENV: 'production' }, PRINT_CHECKS).stdout, 'false');
  });

  it('DEADBOLT_CHECKS=on|off overrides NODE_ENV', () => {
    assert.equal(runWithEnv({ NODE_ENV: 'production', DEADBOLT_CHECKS: 'on' }, PRINT_CHECKS).stdout, 'true');
    assert.equal(runWithEnv({ DEADBOLT_CHECKS: 'off' }, PRINT_CHECKS).stdout, 'false');
  });

  it('a bad DEADBOLT_CHECKS value is an error that names the variable', () => {
    const result = runWithEnv({ DEADBOLT_CHECKS: 'maybe' }, PRINT_CHECKS);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /DEADBOLT_CHECKS must be "on" or "off", got "maybe"/);
  });

  it('fast mode installs no async hook: a self-deadlock is then a plain wait (bounded here by a timeout)', () => {
    const script = `import { Mutex, LockTimeoutError } from './dist/index.js';
      const m = new Mutex(); const g = await m.lock();
      try { await m.lock({ timeout: 20 }); } catch (e) { console.log(e instanceof LockTimeoutError); }`;
    assert.equal(runWithEnv({ DEADBOLT_CHECKS: 'off' }, script).stdout, 'true');
  });

  it('configure validates every option and names the bad one', () => {
    assert.throws(() => configure({ checks: 'yes' as unknown as boolean }), /checks must be a boolean/);
    assert.throws(() => configure({ onPotentialDeadlock: 'ignore' as 'warn' }), /onPotentialDeadlock must be 'throw' or 'warn'/);
    assert.throws(() => configure({ holdWarnMs: -1 }), /holdWarnMs must be a non-negative finite number/);
    assert.throws(() => configure({ defaultTimeout: Number.NaN }), /defaultTimeout must be/);
    assert.throws(() => configure({ stacks: 'sometimes' as 'always' }), /stacks must be/);
    assert.throws(() => configure({ chekcs: true } as never), /unknown option "chekcs"/);
    assert.equal(getConfig().checks, true, 'a rejected configure changes nothing');
  });

  it('configure returns the merged configuration and switches modes at run time', () => {
    const config = configure({ checks: false, holdWarnMs: 0 });
    assert.equal(config.checks, false);
    assert.equal(config.holdWarnMs, 0);
    assert.equal(getConfig(), config);
    assert.equal(configure({ checks: true }).checks, true);
  });

  it('defaultTimeout applies to acquisitions that pass no timeout', () => {
    const script = `import { Mutex, configure } from './dist/index.js';
      configure({ defaultTimeout: 15 }); const m = new Mutex(); const g = await m.lock();
      const { detached } = await import('./dist/index.js');
      const t = performance.now();
      try { await detached(() => m.lock()); } catch (e) { console.log(e.code, performance.now() - t >= 10); }`;
    assert.equal(runWithEnv({}, script).stdout, 'ERR_LOCK_TIMEOUT true');
  });

  it('the ESM and CJS builds share one engine: one learned graph, and instanceof works across them', () => {
    const script = `import { createRequire } from 'node:module';
      const esm = await import('./dist/index.js');
      const cjs = createRequire(process.cwd() + '/')('./dist/index.cjs');
      const a = new esm.Mutex({ name: 'shared-a' }); const b = new esm.Mutex({ name: 'shared-b' });
      await a.run(() => b.run(() => 0));
      const a2 = new cjs.Mutex({ name: 'shared-a' }); const b2 = new cjs.Mutex({ name: 'shared-b' });
      try { await b2.run(() => a2.run(() => 0)); console.log('no error'); }
      catch (e) { console.log(e.code, e.kind, e instanceof esm.LockOrderError, e instanceof esm.DeadboltError, e instanceof esm.DeadlockError); }
      console.log(cjs.lockGraph().edges.length === esm.lockGraph().edges.length);`;
    const output = runWithEnv({}, script);
    assert.equal(output.stdout, 'ERR_LOCK_ORDER order-cycle true true false\ntrue', output.stderr);
  });

  it('the CLI prints usage and rejects unknown commands', () => {
    const help = execFileSync(process.execPath, ['dist/cli/main.js', 'help'], { cwd: root, encoding: 'utf8' });
    assert.match(help, /Usage: deadbolt <command>/);
    const unknown = spawnSync(process.execPath, ['dist/cli/main.js', 'frobnicate'], { cwd: root, encoding: 'utf8' });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});
