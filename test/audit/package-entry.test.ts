// deadbolt/audit as a package: the built entry offers the engine, the reporters and the config
// loader that README and the doc comments name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuditConfigError, analyzeSources, failsAt, formatResult, FORMATS, loadConfigSync, validateConfig } from '../../dist/audit.js';

describe('deadbolt/audit entry', () => {
  it('analyses, formats in every format, and says whether a threshold fails', () => {
    const result = analyzeSources([{ file: 'a.ts', text: "import { Mutex } from 'async-mutex';\nconst m = new Mutex();\nexport async function f() { const release = await m.acquire(); if (Math.random()) return; release(); }\n" }], { root: '/repo' });
    assert.deepEqual(result.findings.map((f) => f.ruleId), ['unreleased-lock']);
    for (const format of FORMATS) assert.ok(formatResult(result, format).length > 0, format);
    assert.equal(result.findings.some((finding) => failsAt(finding, 'error')), true);
    assert.equal(result.findings.some((finding) => failsAt(finding, 'none')), false);
  });

  it('validates and loads configs, with errors that name the file', () => {
    assert.throws(() => validateConfig({ rules: { nope: 'off' } }, 'x.json'), (error: unknown) => error instanceof AuditConfigError && /x\.json/.test(String(error)));
    assert.deepEqual(loadConfigSync({ from: '/' }).config, {});
  });
});
