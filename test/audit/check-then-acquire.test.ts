import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, fixture, ofRule } from './helpers.js';

describe('check-then-acquire', () => {
  const fx = fixture('check-then-acquire');
  const findings = ofRule(fx.result, 'check-then-acquire');
  const line = (marker: string): string => `races.ts:${fx.line('races.ts', marker)}`;

  it('reports isLocked(), isBusy(key) and a flag checked before an await, each then acquired', () => {
    assert.deepEqual(findings.map(at), [line('is-locked-acquire'), line('is-busy-acquire'), line('flag-set')]);
    assert.deepEqual(findings.map((f) => f.locks), [['races.ts#mutex'], ['races.ts#lock'], ['races.ts#Poller.polling']]);
    assert.deepEqual(findings.map((f) => f.related.map((r) => `races.ts:${r.line}`)), [[line('is-locked-check')], [line('is-busy-check')], [line('flag-check')]]);
    for (const finding of findings) assert.equal(finding.severity, 'warning');
  });

  it('stays quiet on try-acquire, a status read, and a flag set before any await', () => {
    assert.deepEqual(fx.result.findings.filter((f) => f.location.file === 'safe.ts'), []);
  });
});
