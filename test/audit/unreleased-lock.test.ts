import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixture, ofRule } from './helpers.js';

describe('unreleased-lock', () => {
  const fx = fixture('unreleased-lock');
  const findings = ofRule(fx.result, 'unreleased-lock');
  const find = (marker: string) => {
    const line = fx.line('leaks.ts', marker);
    const found = findings.filter((f) => f.location.file === 'leaks.ts' && f.location.line === line);
    assert.equal(found.length, 1, `one finding at leaks.ts:${line} (${marker})`);
    return found[0] as (typeof found)[number];
  };

  it('reports an early return between acquire and release', () => {
    const finding = find('early-return');
    assert.equal(finding.severity, 'error');
    assert.deepEqual(finding.locks, ['leaks.ts#mutex']);
    assert.match(finding.message, /mutex is not released when this path leaves/);
    assert.deepEqual(finding.related.map((r) => r.line), [fx.line('leaks.ts', 'early-return-exit')]);
  });

  it('reports a call that can throw before the try', () => {
    const finding = find('call-before-try');
    assert.match(finding.message, /if `validate\(input\)` throws/);
    assert.deepEqual(finding.related.map((r) => r.line), [fx.line('leaks.ts', 'call-before-try-risky')]);
  });

  it('reports a release that only happens in some callback', () => {
    const finding = find('then-acquire');
    assert.match(finding.message, /released only inside a callback/);
    assert.deepEqual(finding.related.map((r) => r.line), [fx.line('leaks.ts', 'callback-release')]);
  });

  it('reports a release skipped by an early return inside the callback that got the lock', () => {
    assert.deepEqual(find('then-early-return').related.map((r) => r.line), [fx.line('leaks.ts', 'then-early-return-exit')]);
    const keyed = find('keyed-done');
    assert.deepEqual(keyed.locks, ['leaks.ts#keyed']);
    assert.deepEqual(keyed.related.map((r) => r.line), [fx.line('leaks.ts', 'keyed-done-exit')]);
  });

  it('reports a discarded deadbolt guard', () => {
    assert.match(find('lost-guard').message, /guard of guardLock is discarded/);
  });

  it('accepts finally, using, try-wrapped acquires, lock-object release, leases and handed-over releases', () => {
    assert.deepEqual(fx.result.findings.filter((f) => f.location.file === 'safe.ts'), []);
    assert.equal(findings.length, 6);
  });
});
