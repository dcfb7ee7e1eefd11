import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, fixture, ofRule } from './helpers.js';

describe('unawaited-lock-promise', () => {
  const fx = fixture('unawaited-lock-promise');
  const findings = ofRule(fx.result, 'unawaited-lock-promise');
  const line = (marker: string): string => `tracker.ts:${fx.line('tracker.ts', marker)}`;

  it('reports runExclusive returned without await inside try/finally', () => {
    const finding = findings.find((f) => at(f) === line('return-in-try'));
    assert.ok(finding);
    assert.equal(finding.severity, 'error');
    assert.deepEqual(finding.locks, ['tracker.ts#Tracker.mutex']);
    assert.match(finding.message, /returned without `await` inside try\/finally/);
  });

  it('reports an un-awaited acquire() whose result is called as a release', () => {
    const finding = findings.find((f) => at(f) === line('not-awaited'));
    assert.ok(finding);
    assert.match(finding.message, /release holds the promise from Tracker\.mutex\.acquire\(\)/);
    assert.deepEqual(finding.related.map((r) => r.line), [fx.line('tracker.ts', 'not-awaited-use')]);
  });

  it('reports a wrapper’s promise returned without await inside try/finally', () => {
    const finding = findings.find((f) => at(f) === line('through-wrapper'));
    assert.ok(finding);
    assert.match(finding.message, /Tracker\.exclusive \(which holds Tracker\.mutex\)/);
  });

  it('stays quiet when awaited, or when no finally depends on it', () => {
    assert.equal(findings.length, 3);
    assert.deepEqual(fx.result.findings.filter((f) => f.location.file === 'awaited.ts'), []);
  });
});
