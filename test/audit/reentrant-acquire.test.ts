import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, fixture, ofRule, pathSteps } from './helpers.js';

describe('reentrant-acquire', () => {
  const fx = fixture('reentrant-acquire');
  const findings = ofRule(fx.result, 'reentrant-acquire');
  const line = (marker: string): string => `controller.ts:${fx.line('controller.ts', marker)}`;

  it('reports a public method that calls another public method taking the same mutex', () => {
    const finding = findings.find((f) => f.message.includes('through OrderController.get'));
    assert.ok(finding);
    assert.equal(finding.severity, 'error');
    assert.deepEqual(finding.locks, ['controller.ts#OrderController.mutex']);
    assert.equal(at(finding), line('update-calls-get'));
    assert.deepEqual(pathSteps(finding), [[line('update-acquires'), line('update-calls-get'), line('get-acquires')]]);
  });

  it('follows a wrapper method (withLock) on both sides', () => {
    const finding = findings.find((f) => f.message.includes('through OrderController.touch'));
    assert.ok(finding);
    assert.equal(at(finding), line('archive-calls-touch'));
    assert.deepEqual(pathSteps(finding), [[line('archive-wrapper'), line('wrapper-runs'), line('archive-calls-touch'), line('touch-wrapper'), line('wrapper-runs')]]);
    assert.match(finding.message, /OrderController\.mutex is requested again through OrderController\.touch while OrderController\.archive already holds it/);
  });

  it('reports nothing else: private unlocked helpers, another instance, semaphores, maybe-held locks', () => {
    assert.equal(findings.length, 2);
    assert.deepEqual(findings.filter((f) => f.location.file === 'split.ts'), []);
    assert.deepEqual(fx.result.findings.filter((f) => f.location.file === 'split.ts'), []);
  });
});
