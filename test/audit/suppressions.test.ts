import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeSources } from '../../src/audit/index.js';

const inversion = (comment: string) => `import { Mutex } from 'async-mutex';
const a = new Mutex();
const b = new Mutex();
export async function one() {
  await a.runExclusive(() => b.runExclusive(async () => 1));
}
export async function two() {
  ${comment}
  await b.runExclusive(() => a.runExclusive(async () => 2));
}
`;

function rulesAt(comment: string): string[] {
  const { findings } = analyzeSources([{ file: 'x.ts', text: inversion(comment) }], { root: '/repo' });
  return findings.map((f) => `${f.ruleId}@${f.location.line}`);
}

describe('inline suppressions (// deadbolt-ignore-next-line)', () => {
  it('without a comment the inversion is found (reported at the other path, line 5)', () => {
    assert.deepEqual(rulesAt('// nothing to see'), ['lock-order-inversion@5']);
  });

  it('a comment above one step of its paths, naming the rule, silences it (with or without a reason)', () => {
    assert.deepEqual(rulesAt('// deadbolt-ignore-next-line lock-order-inversion'), []);
    assert.deepEqual(rulesAt('// deadbolt-ignore-next-line lock-order-inversion -- staged on purpose'), []);
    assert.deepEqual(rulesAt('// deadbolt-ignore-next-line reentrant-acquire, lock-order-inversion'), []);
  });

  it('a comment with no rule silences every rule on the next line only', () => {
    assert.deepEqual(rulesAt('// deadbolt-ignore-next-line'), []);
    const { findings } = analyzeSources([{ file: 'x.ts', text: inversion('// deadbolt-ignore-next-line\n  // (one line further down)') }], { root: '/repo' });
    assert.deepEqual(findings.map((f) => f.ruleId), ['lock-order-inversion']);
  });

  it('another rule, or a misspelt one, silences nothing', () => {
    assert.deepEqual(rulesAt('// deadbolt-ignore-next-line reentrant-acquire'), ['lock-order-inversion@5']);
    assert.deepEqual(rulesAt('// deadbolt-ignore-next-line lock-order-inversoin'), ['lock-order-inversion@5']);
  });

  it('a comment above a path step in another file than the finding\'s location silences it', () => {
    const sources = (comment: string) => [
      {
        file: 'a.ts',
        text: `import { Mutex } from 'async-mutex';
export const x = new Mutex(); export const y = new Mutex();
export async function one() { await x.runExclusive(async () => { await y.runExclusive(async () => {}); }); }`,
      },
      {
        file: 'b.ts',
        text: `import { x, y } from './a';
export async function two() {
  ${comment}
  await y.runExclusive(async () => { await x.runExclusive(async () => {}); }); }`,
      },
    ];
    const plain = analyzeSources(sources('// nothing to see'), { root: '/repo' }).findings;
    assert.deepEqual(plain.map((f) => `${f.ruleId}@${f.location.file}`), ['lock-order-inversion@a.ts']);
    assert.deepEqual(analyzeSources(sources('// deadbolt-ignore-next-line lock-order-inversion -- deliberate'), { root: '/repo' }).findings, []);
  });

  it('several comments in one file each silence their own next line only', () => {
    const text = `import { Mutex } from 'async-mutex';
const a = new Mutex();
const b = new Mutex();
// deadbolt-ignore-next-line reentrant-acquire
export async function one() {
  await a.runExclusive(() => b.runExclusive(async () => 1));
}
// deadbolt-ignore-next-line reentrant-acquire
export async function two() {
  // deadbolt-ignore-next-line lock-order-inversion
  await b.runExclusive(() => a.runExclusive(async () => 2));
}
`;
    assert.deepEqual(analyzeSources([{ file: 'x.ts', text }], { root: '/repo' }).findings, []);
    const shifted = text.replace('  // deadbolt-ignore-next-line lock-order-inversion\n', '  // deadbolt-ignore-next-line lock-order-inversion\n\n');
    assert.deepEqual(analyzeSources([{ file: 'x.ts', text: shifted }], { root: '/repo' }).findings.map((f) => f.ruleId), ['lock-order-inversion']);
  });
});

