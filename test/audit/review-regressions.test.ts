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

  describe('block-scoped declarations resolve to the innermost block', () => {
    it('reads a `const` shadowed in an else branch as that branch\'s lock', () => {
      const result = analyze({
        'a.ts': `import { Mutex } from 'async-mutex';
export class S { a = new Mutex(); b = new Mutex();
  async f(flag: boolean) {
    if (flag) { const m = this.a; const r = await m.acquire(); try { await this.g(); } finally { r(); } }
    else { const m = this.b; const r = await m.acquire(); try { await this.g(); } finally { r(); } }
  }
  async g() { await this.b.runExclusive(async () => {}); }
}`,
      });
      const findings = ofRule(result, 'reentrant-acquire');
      assert.equal(findings.length, 1);
      assert.deepEqual(findings[0]?.locks, ['a.ts#S.b']);
      assert.equal(findings[0]?.location.line, 5);
    });

    it('resolves a function-level `const` and a for-head `let` past an earlier block\'s declaration', () => {
      const result = analyze({
        'a.ts': `import { Mutex } from 'async-mutex';
export class S { a = new Mutex(); b = new Mutex();
  async f(flag: boolean) {
    if (flag) { const m = this.a; void m; }
    const m = this.b;
    await m.runExclusive(async () => { await this.g(); });
  }
  async h(flag: boolean) {
    if (flag) { const m = this.a; void m; }
    for (let m = this.b; flag; flag = false) { await m.runExclusive(async () => { await this.g(); }); }
  }
  async g() { await this.b.runExclusive(async () => {}); }
}`,
      });
      const findings = ofRule(result, 'reentrant-acquire');
      assert.deepEqual(findings.map((f) => [f.locks, f.location.line]), [[['a.ts#S.b'], 6], [['a.ts#S.b'], 10]]);
    });
  });

  describe('classes declared inside a function', () => {
    it('classifies this.method() calls of a class declared in a function body', () => {
      const result = analyze({
        'a.ts': `import { Mutex } from 'async-mutex';
export function make() {
  class S { m = new Mutex();
    async outer() { await this.m.runExclusive(async () => { await this.inner(); }); }
    async inner() { await this.m.runExclusive(async () => {}); }
  }
  return S;
}`,
      });
      const findings = ofRule(result, 'reentrant-acquire');
      assert.equal(findings.length, 1);
      assert.match(findings[0]?.message ?? '', /S\.m is requested again through make\/S\.inner while make\/S\.outer already holds it/);
    });
  });
});
