import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditConfigError, findConfigFile, loadConfig, loadConfigSync, validateConfig } from '../../../src/audit/config.js';

const base = mkdtempSync(join(tmpdir(), 'deadbolt-audit-config-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;

/** A fresh directory tree: `files` maps relative paths to contents. */
function tree(files: Record<string, string>): string {
  const dir = join(base, `t${n++}`);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const full = {
  locks: [
    { from: 'package', name: 'Lock', package: 'my-locks', acquire: ['take'], release: ['give'], reentrant: true },
    { from: 'file', name: 'Gate', path: 'src/gate.ts', run: ['through'] },
  ],
  wrappers: [{ name: 'withLock' }, { name: 'Store.transaction', callbackArg: 1 }],
  ranks: { coffer: 10, buffers: 20 },
  ignore: ['generated/**'],
  rules: { 'callback-under-lock': 'off', 'blocking-under-lock': 'error' },
  bigJsonBytes: 4096,
};

function assertConfigError(fn: () => unknown, file: string, key: string | undefined, detail: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof AuditConfigError, String(error));
    assert.equal(error.code, 'ERR_AUDIT_CONFIG');
    assert.equal(error.file, file);
    assert.equal(error.key, key);
    assert.ok(error.message.startsWith(`${file}: ${key === undefined ? '' : `${key}: `}`), error.message);
    assert.match(error.message, detail);
    return true;
  });
}

describe('validateConfig', () => {
  it('accepts every documented key and returns it typed ($schema dropped)', () => {
    assert.deepEqual(validateConfig({ $schema: './schema.json', ...full }, 'c.json'), full);
    assert.deepEqual(validateConfig({}, 'c.json'), {});
  });

  it('rejects unknown keys, naming the key path and the file', () => {
    assertConfigError(() => validateConfig({ lock: [] }, 'deadbolt.config.json'), 'deadbolt.config.json', 'lock', /unknown key; expected one of locks, wrappers, ranks, ignore, rules, bigJsonBytes/);
    assertConfigError(() => validateConfig({ locks: [{ from: 'package', name: 'X', package: 'p', aquire: ['a'] }] }, 'f'), 'f', 'locks[0].aquire', /unknown key/);
    assertConfigError(() => validateConfig({ wrappers: [{ name: 'w', callback: 0 }] }, 'f'), 'f', 'wrappers[0].callback', /unknown key/);
  });

  it('rejects unknown rule ids and levels', () => {
    assertConfigError(() => validateConfig({ rules: { 'lock-order': 'off' } }, 'f'), 'f', 'rules.lock-order', /unknown rule id; expected one of lock-order-inversion, /);
    assertConfigError(() => validateConfig({ rules: { 'unreleased-lock': 'warn' } }, 'f'), 'f', 'rules.unreleased-lock', /expected one of error, warning, note, off, got the string "warn"/);
  });

  it('rejects wrong types with what was found', () => {
    assertConfigError(() => validateConfig([], 'f'), 'f', '', /expected an object, got an array/);
    assertConfigError(() => validateConfig({ ranks: { coffer: '10' } }, 'f'), 'f', 'ranks.coffer', /expected a number, got the string "10"/);
    assertConfigError(() => validateConfig({ ranks: null }, 'f'), 'f', 'ranks', /expected an object, got null/);
    assertConfigError(() => validateConfig({ rules: null }, 'f'), 'f', 'rules', /expected an object, got null/);
    assertConfigError(() => validateConfig({ rules: ['lock-order-inversion'] }, 'f'), 'f', 'rules', /expected an object, got an array/);
    assertConfigError(() => validateConfig({ ignore: 'dist' }, 'f'), 'f', 'ignore', /expected an array of strings/);
    assertConfigError(() => validateConfig({ ignore: ['a', 3] }, 'f'), 'f', 'ignore[1]', /expected a non-empty string, got number 3/);
    assertConfigError(() => validateConfig({ bigJsonBytes: 1.5 }, 'f'), 'f', 'bigJsonBytes', /expected an integer/);
    assertConfigError(() => validateConfig({ bigJsonBytes: 0 }, 'f'), 'f', 'bigJsonBytes', /at least 1/);
    assertConfigError(() => validateConfig({ wrappers: [{ name: 'w', callbackArg: -1 }] }, 'f'), 'f', 'wrappers[0].callbackArg', /at least 0/);
    assertConfigError(() => validateConfig({ locks: [{ from: 'package', name: 'X', package: 'p', reentrant: 'yes' }] }, 'f'), 'f', 'locks[0].reentrant', /true or false/);
  });

  it('checks that a lock type says where it comes from', () => {
    assertConfigError(() => validateConfig({ locks: [{ from: 'npm', name: 'X' }] }, 'f'), 'f', 'locks[0].from', /"package" or "file"/);
    assertConfigError(() => validateConfig({ locks: [{ from: 'package', name: 'X' }] }, 'f'), 'f', 'locks[0].package', /required/);
    assertConfigError(() => validateConfig({ locks: [{ from: 'file', name: 'X' }] }, 'f'), 'f', 'locks[0].path', /required/);
    assertConfigError(() => validateConfig({ locks: [{ from: 'file', name: 'X', path: 'a.ts', package: 'p' }] }, 'f'), 'f', 'locks[0].package', /only for "from": "package"/);
  });
});

describe('loadConfig', () => {
  const tsConfig = `import type { AuditConfig } from 'deadbolt/audit';
import { RANKS } from './ranks.js';
const config: AuditConfig = { ranks: RANKS, rules: { 'check-then-acquire': 'off' } };
export default config;
`;

  it('reads each kind of config file, and makes lock type paths absolute', async () => {
    const json = tree({ 'package.json': '{}', 'deadbolt.config.json': JSON.stringify(full) });
    const loaded = await loadConfig({ from: json });
    assert.equal(loaded.file, join(json, 'deadbolt.config.json'));
    assert.equal(loaded.config.locks?.[1]?.path, join(json, 'src/gate.ts'));
    assert.deepEqual({ ...loaded.config, locks: full.locks }, full);

    const mjs = tree({ 'package.json': '{}', 'deadbolt.config.mjs': 'export default { ignore: ["x/**"] };' });
    assert.deepEqual((await loadConfig({ from: mjs })).config, { ignore: ['x/**'] });

    const cjs = tree({ 'package.json': '{}', 'deadbolt.config.js': 'module.exports = { bigJsonBytes: 10 };' });
    assert.deepEqual((await loadConfig({ from: cjs })).config, { bigJsonBytes: 10 });

    const ts = tree({ 'package.json': '{"type":"module"}', 'deadbolt.config.ts': tsConfig, 'ranks.js': 'export const RANKS = { a: 1, b: 2 };' });
    assert.deepEqual((await loadConfig({ from: ts })).config, { ranks: { a: 1, b: 2 }, rules: { 'check-then-acquire': 'off' } });
    assert.deepEqual(readdirSync(ts).sort(), ['deadbolt.config.ts', 'package.json', 'ranks.js'], 'the transpiled temporary file is removed');

    const pkg = tree({ 'package.json': JSON.stringify({ name: 'x', deadbolt: { wrappers: [{ name: 'withLock' }] } }) });
    const fromPkg = await loadConfig({ from: pkg });
    assert.equal(fromPkg.file, join(pkg, 'package.json'));
    assert.deepEqual(fromPkg.config, { wrappers: [{ name: 'withLock' }] });
  });

  it('looks up from the audit directory to the nearest package.json, not beyond', async () => {
    const dir = tree({
      'package.json': '{}',
      'deadbolt.config.json': '{"ignore":["outer"]}',
      'packages/a/package.json': '{}',
      'packages/a/src/lib/x.ts': '',
      'packages/b/package.json': '{}',
      'packages/b/deadbolt.config.json': '{"ignore":["b"]}',
      'packages/b/src/x.ts': '',
      'tools/script/x.ts': '',
    });
    assert.equal(findConfigFile(join(dir, 'packages/a/src/lib')), undefined, 'stops at packages/a (its package.json)');
    assert.deepEqual((await loadConfig({ from: join(dir, 'packages/a/src/lib') })).config, {});
    assert.equal(findConfigFile(join(dir, 'packages/b/src')), join(dir, 'packages/b/deadbolt.config.json'));
    assert.equal(findConfigFile(join(dir, 'tools/script')), join(dir, 'deadbolt.config.json'), 'no package.json below: up to the root one');
  });

  it('an explicit file skips the lookup', async () => {
    const dir = tree({ 'package.json': '{}', 'deadbolt.config.json': '{"ignore":["a"]}', 'other.json': '{"ignore":["b"]}' });
    assert.deepEqual((await loadConfig({ from: dir, file: join(dir, 'other.json') })).config, { ignore: ['b'] });
  });

  it('errors name the file: invalid content, unparsable JSON, a missing file, two configs, a TS syntax error, no export', async () => {
    const bad = tree({ 'package.json': '{}', 'deadbolt.config.json': '{"rules":{"nope":"off"}}' });
    await assert.rejects(loadConfig({ from: bad }), { code: 'ERR_AUDIT_CONFIG', message: `${join(bad, 'deadbolt.config.json')}: rules.nope: unknown rule id; expected one of ${'lock-order-inversion'}, reentrant-acquire, unreleased-lock, callback-under-lock, blocking-under-lock, unawaited-lock-promise, check-then-acquire, multi-lock-unordered` });
    const unparsable = tree({ 'package.json': '{}', 'deadbolt.config.json': '{ ignore: [] }' });
    await assert.rejects(loadConfig({ from: unparsable }), new RegExp(`^AuditConfigError: ${join(unparsable, 'deadbolt.config.json')}: cannot parse: `));
    await assert.rejects(loadConfig({ file: join(base, 'missing.json') }), { message: `${join(base, 'missing.json')}: no such file` });
    const two = tree({ 'package.json': '{}', 'deadbolt.config.json': '{}', 'deadbolt.config.mjs': 'export default {}' });
    await assert.rejects(loadConfig({ from: two }), /more than one deadbolt config in .*: deadbolt\.config\.json, deadbolt\.config\.mjs; keep one/);
    const pkgToo = tree({ 'package.json': '{"deadbolt":{}}', 'deadbolt.config.json': '{}' });
    await assert.rejects(loadConfig({ from: pkgToo }), /more than one deadbolt config in .*: deadbolt\.config\.json, package\.json/);
    const tsBad = tree({ 'package.json': '{}', 'deadbolt.config.ts': 'export default { ranks: { a: 1 ;' });
    await assert.rejects(loadConfig({ from: tsBad }), new RegExp(`^AuditConfigError: ${join(tsBad, 'deadbolt.config.ts')}: cannot compile: `));
    const tsInvalid = tree({ 'package.json': '{}', 'deadbolt.config.ts': 'export default { ranks: { a: "high" } };' });
    await assert.rejects(loadConfig({ from: tsInvalid }), { message: `${join(tsInvalid, 'deadbolt.config.ts')}: ranks.a: expected a number, got the string "high"` });
    const none = tree({ 'package.json': '{"type":"module"}', 'deadbolt.config.js': 'export const x = 1;' });
    await assert.rejects(loadConfig({ from: none }), { message: `${join(none, 'deadbolt.config.js')}: x: unknown key; expected one of locks, wrappers, ranks, ignore, rules, bigJsonBytes` });
    const throws = tree({ 'package.json': '{}', 'deadbolt.config.mjs': 'throw new Error("boom")' });
    await assert.rejects(loadConfig({ from: throws }), { message: `${join(throws, 'deadbolt.config.mjs')}: cannot load: boom` });
    assert.equal(existsSync(join(tsInvalid, '.deadbolt.config.ts.mjs')), false);
  });

  it('loadConfigSync reads JSON and package.json, and explains why it cannot read JS/TS', () => {
    const json = tree({ 'package.json': '{"deadbolt":{"ignore":["x"]}}' });
    assert.deepEqual(loadConfigSync({ from: json }).config, { ignore: ['x'] });
    const ts = tree({ 'package.json': '{}', 'deadbolt.config.ts': 'export default {}' });
    assert.throws(() => loadConfigSync({ from: ts }), /cannot be loaded synchronously .* pass it as `settings\.deadbolt`/);
  });
});
