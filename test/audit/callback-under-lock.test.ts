import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, fixture, ofRule, pathSteps } from './helpers.js';

describe('callback-under-lock', () => {
  const fx = fixture('callback-under-lock');
  const findings = ofRule(fx.result, 'callback-under-lock');
  const line = (marker: string): string => `store.ts:${fx.line('store.ts', marker)}`;

  it('reports subscribers notified in a loop, an emit, and a callback parameter, under the store mutex', () => {
    assert.deepEqual(findings.map(at), [line('notify-loop'), line('emit'), line('on-evict'), line('publish-call')]);
    for (const finding of findings) {
      assert.equal(finding.severity, 'warning');
      assert.deepEqual(finding.locks, ['store.ts#Store.mutex']);
      assert.match(finding.message, /while Store\.mutex is held/);
    }
    assert.deepEqual(pathSteps(findings[0] as (typeof findings)[number]), [[line('set-acquires'), line('notify-loop')]]);
  });

  it('follows a call to a method that notifies subscribers', () => {
    const finding = findings.find((f) => at(f) === line('publish-call'));
    assert.ok(finding);
    assert.match(finding.message, /Store\.#publish\(\) notifies listener subscriber while Store\.mutex is held/);
    assert.equal(pathSteps(finding)[0]?.at(-1), line('publish-notify'));
  });

  it('stays quiet after release, for the lock’s own callback, wrappers and re-entrancy guards', () => {
    assert.deepEqual(fx.result.findings.filter((f) => f.location.file === 'after-release.ts'), []);
  });
});
