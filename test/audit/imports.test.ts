import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeSources } from '../../src/audit/index.js';
import { at, fixture, ofRule, pathSteps } from './helpers.js';

describe('import resolution', () => {
  it('follows require, module.exports, a namespace import and a CommonJS default import across files', () => {
    const fx = fixture('imports');
    const findings = ofRule(fx.result, 'lock-order-inversion');
    assert.equal(findings.length, 1);
    const [finding] = findings;
    assert.ok(finding);
    assert.deepEqual([...finding.locks].sort(), ['locks.cjs#dbLock', 'locks.cjs#migrationLock']);
    assert.equal(at(finding), `repo.js:${fx.line('repo.js', 'record-migration')}`);
    assert.deepEqual(pathSteps(finding), [
      [`repo.js:${fx.line('repo.js', 'save-db')}`, `repo.js:${fx.line('repo.js', 'save-calls-record')}`, `repo.js:${fx.line('repo.js', 'record-migration')}`],
      [`service.ts:${fx.line('service.ts', 'migrate-migration')}`, `service.ts:${fx.line('service.ts', 'migrate-calls-load')}`, `repo.js:${fx.line('repo.js', 'load-db')}`],
    ]);
    assert.deepEqual(fx.result.inventory.map((row) => row.id), ['locks.cjs#dbLock', 'locks.cjs#migrationLock']);
  });

  it('resolves a lock exported by one file and taken under another file’s lock (two files)', () => {
    const locks = "import { Mutex } from 'async-mutex';\nexport const a = new Mutex();\nexport const b = new Mutex();\n";
    const user = [
      "import { a, b } from './locks.js';",
      'export async function ab() {',
      '  await a.runExclusive(() => b.runExclusive(() => 1));',
      '}',
      'export async function ba() {',
      '  await b.runExclusive(() => a.runExclusive(() => 2));',
      '}',
      '',
    ].join('\n');
    const result = analyzeSources([{ file: 'src/locks.ts', text: locks }, { file: 'src/user.ts', text: user }], { root: '/virtual' });
    assert.deepEqual(result.findings.map((f) => [f.ruleId, at(f), [...f.locks].sort()]), [['lock-order-inversion', 'src/user.ts:3', ['src/locks.ts#a', 'src/locks.ts#b']]]);
  });

  it('does not take an unrelated class named Mutex for a lock', () => {
    const text = "class Mutex { acquire() { return 1; } }\nconst m = new Mutex();\nexport async function f() { const r = await m.acquire(); if (r) return; }\n";
    const result = analyzeSources([{ file: 'local.ts', text }], { root: '/virtual' });
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.inventory, []);
  });
});
