import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeSources, runAudit } from '../../src/audit/index.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

describe('the audit of this repository', () => {
  it('runs over src/ without crashing, skipping nothing, with no findings', async () => {
    const result = await runAudit({ root: repo, paths: ['src'] });
    assert.ok(result.filesScanned > 50, `scanned ${result.filesScanned} files`);
    assert.deepEqual(result.skipped, []);
    assert.deepEqual(
      result.findings.map((f) => `${f.ruleId} ${f.location.file}:${f.location.line} ${f.message}`),
      [],
    );
  });

  const primitive = (path: string, name: string, acquire: string[], run: string[]) => ({ from: 'file' as const, path, name, acquire, run, release: [] });
  const primitives = [
    primitive('src/primitives/mutex.ts', 'Mutex', ['lock'], ['run']),
    primitive('src/primitives/rwlock.ts', 'RwLock', ['read', 'write'], ['runRead', 'runWrite']),
    primitive('src/primitives/semaphore.ts', 'Semaphore', ['acquire'], ['run']),
    primitive('src/fs/file-lock.ts', 'FileLock', ['lock'], ['run']),
  ];

  it('finds the inversion the CLI demo stages on purpose, once deadbolt’s primitives are declared as lock types, unless its inline comment silences it', async () => {
    const demo = readFileSync(join(repo, 'src/cli/demo.ts'), 'utf8');
    assert.match(demo, /deadbolt-ignore-next-line lock-order-inversion/);
    const withoutComment = demo.replace(/^.*deadbolt-ignore-next-line.*\n/m, '');
    const sources = (text: string) => [
      { file: 'src/cli/demo.ts', text },
      // The demo imports the primitives through the package's index.
      { file: 'src/index.ts', text: readFileSync(join(repo, 'src/index.ts'), 'utf8') },
      ...primitives.map((p) => ({ file: p.path, text: readFileSync(join(repo, p.path), 'utf8') })),
    ];
    const found = analyzeSources(sources(withoutComment), { root: repo, config: { locks: primitives } });
    assert.deepEqual(
      found.findings.filter((f) => f.location.file === 'src/cli/demo.ts').map((f) => [f.ruleId, [...f.locks].sort()]),
      [['lock-order-inversion', ['src/cli/demo.ts#orderInversion.cache', 'src/cli/demo.ts#orderInversion.sessions']]],
    );
    const silenced = analyzeSources(sources(demo), { root: repo, config: { locks: primitives } });
    assert.deepEqual(silenced.findings.filter((f) => f.location.file === 'src/cli/demo.ts'), []);
  });

  it('has no other findings in src/ with deadbolt’s primitives declared as lock types', async () => {
    const result = await runAudit({
      root: repo,
      paths: ['src'],
      config: {
        locks: [
          primitive('src/primitives/mutex.ts', 'Mutex', ['lock'], ['run']),
          primitive('src/primitives/rwlock.ts', 'RwLock', ['read', 'write'], ['runRead', 'runWrite']),
          primitive('src/primitives/semaphore.ts', 'Semaphore', ['acquire'], ['run']),
          primitive('src/fs/file-lock.ts', 'FileLock', ['lock'], ['run']),
        ],
      },
    });
    assert.deepEqual(result.skipped, []);
    assert.ok(result.inventory.length > 0, 'the primitives are recognised');
    assert.deepEqual(
      result.findings.map((f) => `${f.ruleId} ${f.location.file}:${f.location.line} ${f.message}`),
      [],
    );
  });
});
