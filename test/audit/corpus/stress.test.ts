/*
 * The audit never crashes on real code: it runs over a large vendored corpus (the .ts and .js
 * files that installed packages ship) and every file is either analysed or reported as skipped
 * with a reason; a deliberately broken file is the only one skipped. The default run takes a
 * ~1,500-file selection of the project's own node_modules; DEADBOLT_STRESS=1 takes every
 * .ts/.mts/.cts/.js/.mjs/.cjs file under node_modules, of any size (the file is named
 * stress.test.ts so that `npm run test:stress` picks it up).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { findPackage, walk } from '../../../bench/audit/corpus.js';
import { runAudit } from '../../../src/audit/index.js';

const STRESS = process.env.DEADBOLT_STRESS === '1';
const root = join(dirname(new URL(import.meta.url).pathname), '..', '..', '..');

/** Packages of the default run: typed and untyped, ESM and CommonJS, libraries with locks in them. */
const PACKAGES = [
  'zod',
  'eslint',
  '@typescript-eslint/eslint-plugin',
  '@typescript-eslint/scope-manager',
  '@typescript-eslint/typescript-estree',
  'async-mutex',
  'async-lock',
  'await-lock',
  'proper-lockfile',
  'piscina',
  'lowdb',
  'write-file-atomic',
  'tsx',
  'espree',
  'acorn',
];
const isCode = (name: string): boolean => /\.(?:[mc]?[jt]s)$/.test(name) && !/\.d\.[mc]?ts$/.test(name);
const MAX_BYTES = STRESS ? Infinity : 1_000_000;

const dir = mkdtempSync(join(tmpdir(), 'deadbolt-audit-never-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Copies the corpus into `dir` (as `<package>/<path>`); returns the copies' relative paths. */
function copyCorpus(): string[] {
  const sources: { file: string; target: string }[] = [];
  if (STRESS) {
    const modules = join(root, 'node_modules');
    for (const file of walk(modules, isCode)) sources.push({ file, target: relative(modules, file) });
  } else {
    for (const name of PACKAGES) {
      const pkg = findPackage(name);
      assert.ok(pkg !== undefined, `${name} is installed (a dependency of the project)`);
      for (const file of walk(pkg.dir, isCode)) if (statSync(file).size <= MAX_BYTES) sources.push({ file, target: join(name, relative(pkg.dir, file)) });
    }
  }
  return sources.map(({ file, target }) => {
    // Nested node_modules are renamed so that the audit's directory walk does not skip them.
    const renamed = target.replace(/(^|\/)node_modules(?=\/)/g, '$1_node_modules');
    mkdirSync(join(dir, dirname(renamed)), { recursive: true });
    copyFileSync(file, join(dir, renamed));
    return renamed;
  });
}

describe('never crash on real code', () => {
  it(`audits ${STRESS ? 'every .ts/.js file under node_modules' : 'a 1,000+ file corpus of installed packages'}; a broken file is reported and skipped`, { timeout: STRESS ? 600_000 : 60_000 }, async () => {
    const files = copyCorpus();
    assert.ok(files.length >= 1000, `corpus has ${files.length} files`);
    writeFileSync(join(dir, 'broken.ts'), 'export function broken( {\n  const x = ;\n');
    const progress: number[] = [];
    const result = await runAudit({ paths: [dir], root: dir, onProgress: (done) => progress.push(done) });

    const skipped = new Map(result.skipped.map((s) => [s.file, s.reason]));
    assert.ok(skipped.has('broken.ts'), `broken.ts is reported as skipped: ${JSON.stringify([...skipped].slice(0, 5))}`);
    assert.match(skipped.get('broken.ts')!, /\S/, 'with a reason');
    const others = [...skipped].filter(([file]) => file !== 'broken.ts');
    assert.deepEqual(others, [], 'no valid file of the corpus is skipped');
    assert.equal(result.filesScanned + result.skipped.length, files.length + 1, 'every file is either analysed or skipped');
    assert.ok(progress.length > 0 && progress.at(-1) === files.length + 1, 'progress reaches the total');
    for (const finding of result.findings) assert.ok(!finding.location.file.startsWith('..') && !finding.location.file.startsWith('/'), finding.location.file);
  });
});
