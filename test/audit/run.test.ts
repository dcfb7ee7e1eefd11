import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeSources, runAudit } from '../../src/audit/index.js';

const LEAK = "import { Mutex } from 'async-mutex';\nconst m = new Mutex();\nexport async function leak(x: boolean) {\n  const release = await m.acquire();\n  if (x) return;\n  release();\n}\n";

describe('runAudit', () => {
  let root: string;
  const write = (file: string, text: string): void => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'deadbolt-audit-'));
    write('src/good.ts', LEAK);
    write('src/broken.ts', 'export const = ;\nfunction (\n');
    write('src/types.d.ts', 'export declare const x: number;\n');
    write('src/notes.md', '# not code\n');
    write('generated/out.js', LEAK.replace(/: boolean/, ''));
    write('vendor/lib.mjs', LEAK.replace(/: boolean/, ''));
    write('node_modules/dep/index.js', LEAK.replace(/: boolean/, ''));
    write('.gitignore', 'generated/\n');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('reports a file with syntax errors in skipped and still analyses the others', async () => {
    const result = await runAudit({ root, paths: ['src'] });
    assert.equal(result.root, root);
    assert.deepEqual(result.skipped.map((s) => s.file), ['src/broken.ts']);
    assert.match(result.skipped[0]?.reason ?? '', /^syntax error at 1:\d+: /);
    assert.equal(result.filesScanned, 1);
    assert.deepEqual(result.findings.map((f) => [f.ruleId, f.location.file, f.location.line]), [['unreleased-lock', 'src/good.ts', 4]]);
  });

  it('respects .gitignore, skips node_modules and .d.ts, and applies config ignore globs', async () => {
    const all = await runAudit({ root });
    const files = (r: typeof all) => [...new Set([...r.findings.map((f) => f.location.file), ...r.skipped.map((s) => s.file)])].sort();
    assert.deepEqual(files(all), ['src/broken.ts', 'src/good.ts', 'vendor/lib.mjs']);
    const ignored = await runAudit({ root, config: { ignore: ['vendor/'] } });
    assert.deepEqual(files(ignored), ['src/broken.ts', 'src/good.ts']);
  });

  it('audits node_modules when a path points inside it', async () => {
    const result = await runAudit({ root, paths: ['node_modules/dep'] });
    assert.deepEqual(result.findings.map((f) => f.location.file), ['node_modules/dep/index.js']);
  });

  it('reports a path that does not exist as skipped', async () => {
    const result = await runAudit({ root, paths: ['missing.ts'] });
    assert.deepEqual(result.skipped.map((s) => [s.file, s.reason]), [['missing.ts', 'cannot read: ENOENT']]);
  });

  it('calls onProgress for each file', async () => {
    const calls: [number, number][] = [];
    await runAudit({ root, paths: ['src'], onProgress: (done, total) => calls.push([done, total]) });
    assert.deepEqual(calls, [[1, 2], [2, 2]]);
  });
});

describe('analyzeSources', () => {
  it('applies per-rule severities and turns rules off', () => {
    const sources = [{ file: 'a.ts', text: LEAK }];
    assert.equal(analyzeSources(sources, { root: '/virtual', config: { rules: { 'unreleased-lock': 'warning' } } }).findings[0]?.severity, 'warning');
    assert.deepEqual(analyzeSources(sources, { root: '/virtual', config: { rules: { 'unreleased-lock': 'off' } } }).findings, []);
  });

  it('keeps fingerprints when code above moves, and sorts by file, line, rule', () => {
    const before = analyzeSources([{ file: 'a.ts', text: LEAK }], { root: '/virtual' }).findings;
    const after = analyzeSources([{ file: 'a.ts', text: `// a comment\n\n${LEAK}` }], { root: '/virtual' }).findings;
    assert.equal(before.length, 1);
    assert.equal(after[0]?.location.line, (before[0]?.location.line ?? 0) + 2);
    assert.equal(after[0]?.fingerprint, before[0]?.fingerprint);
    const two = analyzeSources([{ file: 'b.ts', text: LEAK }, { file: 'a.ts', text: LEAK }], { root: '/virtual' }).findings;
    assert.deepEqual(two.map((f) => f.location.file), ['a.ts', 'b.ts']);
    assert.notEqual(two[0]?.fingerprint, two[1]?.fingerprint);
  });

  it('explains each finding and says how to fix it', () => {
    const [finding] = analyzeSources([{ file: 'a.ts', text: LEAK }], { root: '/virtual' }).findings;
    assert.ok(finding);
    assert.ok(finding.explanation.length > 40 && finding.fix.length > 20);
    assert.match(finding.fingerprint, /^[0-9a-f]{32}$/);
  });
});
