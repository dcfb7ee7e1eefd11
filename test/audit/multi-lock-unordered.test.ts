import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeSources } from '../../src/audit/index.js';
import { at, fixture, ofRule } from './helpers.js';

describe('multi-lock-unordered', () => {
  const fx = fixture('multi-lock-unordered');
  const findings = ofRule(fx.result, 'multi-lock-unordered');
  const line = (marker: string): string => `keyed.ts:${fx.line('keyed.ts', marker)}`;

  it('reports a keyed mutex acquiring caller-ordered keys with Promise.all, in a loop, and async-lock key arrays', () => {
    assert.deepEqual(findings.map(at), [line('promise-all'), line('loop'), line('async-lock-keys')]);
    assert.deepEqual(findings.map((f) => f.locks), [['keyed.ts#KeyedMutex.locks'], ['keyed.ts#KeyedMutex.locks'], ['keyed.ts#KeyedMutex.accounts']]);
    assert.match(findings[0]?.message ?? '', /each element of `keys` in the caller's order \(KeyedMutex\.locks\[…\]\)/);
    for (const finding of findings) assert.equal(finding.severity, 'warning');
  });

  it('stays quiet when keys are sorted first, for per-item run locks and for lockAll', () => {
    assert.deepEqual(fx.result.findings.filter((f) => f.location.file === 'sorted.ts'), []);
  });

  it('follows a loop variable whose name has a `$` in it', () => {
    const text = `import { Mutex } from 'async-mutex';
const locks = new Map<string, Mutex>();
export async function f($keys: string[]) { const rs = []; for (const $k of $keys) rs.push(await locks.get($k)!.acquire()); }
export async function g(keys: string[]) { const rs = []; for (const k of keys) rs.push(await locks.get(k)!.acquire()); }`;
    const { findings } = analyzeSources([{ file: 'a.ts', text }], { root: '/repo' });
    assert.deepEqual(
      findings.filter((f) => f.ruleId === 'multi-lock-unordered').map((f) => f.location.line),
      [3, 4],
    );
  });
});

