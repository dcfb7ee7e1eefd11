/*
 * deadbolt/eslint-plugin: every rule through ESLint's RuleTester (typescript-eslint's parser), on
 * one true-positive and at least one true-negative fixture each; the recommended config; one
 * analysis per file shared by all rules; cross-file analysis through relative imports; settings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ESLint, RuleTester, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import plugin, { analysesRun } from '../../../src/audit/eslint-plugin.js';
import { RULE_DOCS } from '../../../src/audit/reporters/rule-docs.js';
import { RULE_IDS } from '../../../src/audit/types.js';
import { FIXTURES } from './fixtures.js';

// RuleTester reports through the test framework's describe/it.
RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' } });

for (const id of RULE_IDS) {
  describe(`deadbolt/${id}`, () => {
    tester.run(id, plugin.rules[id], {
      valid: FIXTURES[id].valid.map((code, i) => ({ code, filename: `valid-${id}-${i}.ts`, name: `${id}: true negative ${i + 1}` })),
      invalid: FIXTURES[id].invalid.map((code, i) => ({ code, filename: `invalid-${id}-${i}.ts`, name: `${id}: true positive ${i + 1}`, errors: [{ messageId: 'finding' }] })),
    });
  });
}

describe('plugin shape', () => {
  it('has a rule per audit rule, with meta (type, description, messages, schema)', () => {
    assert.deepEqual(Object.keys(plugin.rules).sort(), [...RULE_IDS].sort());
    for (const doc of RULE_DOCS) {
      const meta = plugin.rules[doc.id].meta!;
      assert.equal(meta.type, 'problem');
      assert.ok(meta.docs?.description?.startsWith(doc.summary), doc.id);
      assert.deepEqual(Object.keys(meta.messages ?? {}), ['finding']);
      assert.deepEqual(meta.schema, []);
    }
  });

  it('configs.recommended registers the plugin as deadbolt and turns every rule on at its default severity', () => {
    const recommended = plugin.configs.recommended;
    assert.equal(recommended.plugins?.deadbolt, plugin);
    assert.deepEqual(
      recommended.rules,
      Object.fromEntries(RULE_DOCS.map((d) => [`deadbolt/${d.id}`, d.defaultSeverity === 'error' ? 'error' : 'warn'])),
    );
  });
});

describe('with the ESLint class', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deadbolt-eslint-plugin-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  const config = (extra: Linter.Config = {}): Linter.Config[] => [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, plugin.configs.recommended, extra];

  it('reports every rule through the recommended config, analysing each file once for all rules', async () => {
    const files = RULE_IDS.map((id) => {
      const name = `${id}.ts`;
      writeFileSync(join(dir, name), FIXTURES[id].invalid[0]!);
      return name;
    });
    const eslint = new ESLint({ cwd: dir, overrideConfigFile: true, overrideConfig: config() });
    const before = analysesRun();
    const results = await eslint.lintFiles(files);
    assert.equal(analysesRun() - before, files.length, 'one analysis per file, shared by the eight rules');
    for (const result of results) {
      const id = result.filePath.slice(dir.length + 1, -'.ts'.length);
      const own = result.messages.filter((m) => m.ruleId === `deadbolt/${id}`);
      assert.ok(own.length >= 1, `${id}: ${JSON.stringify(result.messages.map((m) => `${m.ruleId}: ${m.message}`))}`);
      const severity = RULE_DOCS.find((d) => d.id === id)!.defaultSeverity === 'error' ? 2 : 1;
      for (const message of own) {
        assert.equal(message.severity, severity);
        assert.match(message.message, / Fix: \S/);
        assert.ok(message.line >= 1 && message.column >= 1);
      }
    }
  });

  it('sees a lock order inversion across a relative import', async () => {
    writeFileSync(
      join(dir, 'locks.ts'),
      `import { Mutex } from 'async-mutex';
export const users = new Mutex();
export const orders = new Mutex();
export async function usersThenOrders(): Promise<void> {
  await users.runExclusive(async () => {
    await orders.runExclusive(async () => { await Promise.resolve(); });
  });
}
`,
    );
    writeFileSync(
      join(dir, 'checkout.ts'),
      `import { orders, users } from './locks.js';
export async function checkout(): Promise<void> {
  await orders.runExclusive(async () => {
    await users.runExclusive(async () => { await Promise.resolve(); });
  });
}
`,
    );
    // The same code importing the same names from a module that is not there: nothing to see.
    writeFileSync(join(dir, 'checkout-alone.ts'), readFileSync(join(dir, 'checkout.ts'), 'utf8').replace('./locks.js', './elsewhere.js'));
    const eslint = new ESLint({ cwd: dir, overrideConfigFile: true, overrideConfig: config() });
    const [result, alone] = await eslint.lintFiles(['checkout.ts', 'checkout-alone.ts']);
    const inversions = result!.messages.filter((m) => m.ruleId === 'deadbolt/lock-order-inversion');
    assert.equal(inversions.length, 1, JSON.stringify(result!.messages));
    assert.equal(inversions[0]!.line, 4, 'at the inner acquisition in checkout.ts');
    assert.deepEqual(alone!.messages.filter((m) => m.ruleId === 'deadbolt/lock-order-inversion'), []);
  });

  it('takes the config from settings.deadbolt (a rule turned off there reports nothing) and validates it', async () => {
    writeFileSync(join(dir, 'blocking.ts'), FIXTURES['blocking-under-lock'].invalid[0]!);
    const off = new ESLint({ cwd: dir, overrideConfigFile: true, overrideConfig: config({ settings: { deadbolt: { rules: { 'blocking-under-lock': 'off' } } } }) });
    const [quiet] = await off.lintFiles(['blocking.ts']);
    assert.deepEqual(quiet!.messages.filter((m) => m.ruleId === 'deadbolt/blocking-under-lock'), []);
    const bad = new ESLint({ cwd: dir, overrideConfigFile: true, overrideConfig: config({ settings: { deadbolt: { rules: { blocking: 'off' } } } }) });
    await assert.rejects(bad.lintFiles(['blocking.ts']), /ESLint settings\.deadbolt: rules\.blocking: unknown rule id/);
  });
});
