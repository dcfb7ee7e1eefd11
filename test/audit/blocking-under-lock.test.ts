import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { at, fixture, ofRule, pathSteps } from './helpers.js';

describe('blocking-under-lock', () => {
  const fx = fixture('blocking-under-lock');
  const findings = ofRule(fx.result, 'blocking-under-lock');
  const line = (marker: string): number => fx.line('config-store.ts', marker);

  it('reports *Sync calls from fs, zlib, child_process and JSON over unbounded values under the lock', () => {
    const direct = findings.filter((f) => !f.message.includes('snapshot()'));
    assert.deepEqual(
      direct.map((f) => [f.location.line, /^Calls (\S+)/.exec(f.message)?.[1]]),
      [
        [line('parse-read'), 'JSON.parse'],
        [line('parse-read'), 'readFileSync'],
        [line('write-gzip-json'), 'writeFileSync'],
        [line('write-gzip-json'), 'zlib.gzipSync'],
        [line('write-gzip-json'), 'JSON.stringify'],
        [line('exec'), 'execSync'],
      ],
    );
    for (const finding of findings) assert.deepEqual(finding.locks, ['config-store.ts#ConfigStore.mutex']);
  });

  it('follows a call into another file that does sync I/O', () => {
    const finding = findings.find((f) => f.message.includes('snapshot()'));
    assert.ok(finding);
    assert.equal(at(finding), `config-store.ts:${line('through-call')}`);
    assert.equal(pathSteps(finding)[0]?.at(-1), `snapshot.ts:${fx.line('snapshot.ts', 'snapshot-write')}`);
  });

  it('stays quiet on async I/O, bounded JSON and sync work outside the lock', () => {
    assert.deepEqual(fx.result.findings.filter((f) => f.location.file === 'async-io.ts'), []);
    assert.equal(findings.length, 7);
  });
});
