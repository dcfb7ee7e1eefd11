/* eslint-disable no-control-regex -- ANSI colour escapes are what these tests look for */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failsAt, formatJson, formatMarkdown, formatResult, formatText, sortFindings } from '../../../src/audit/reporters/index.js';
import { kindLabel } from '../../../src/audit/reporters/text.js';
import type { AuditResult } from '../../../src/audit/types.js';
import { blocking, empty, inversion, note, reentrant, sample } from './sample-result.js';

const ANSI = /\u001b\[/;

describe('text reporter', () => {
  it('groups findings by file, sorted by line, each with severity, message, rule, why, fix and paths', () => {
    const text = formatText(sample);
    assert.doesNotMatch(text, ANSI);
    const lines = text.split('\n');
    const cacheHeader = lines.indexOf('src/cache|v2.ts');
    const storeHeader = lines.indexOf('src/store.ts');
    assert.ok(cacheHeader >= 0 && storeHeader > cacheHeader, text);
    // Within src/store.ts: line 22 (reentrant) before line 40 (inversion).
    const reentrantLine = lines.findIndex((l) => l.includes(reentrant.message));
    const inversionLine = lines.findIndex((l) => l.includes(inversion.message));
    assert.ok(storeHeader < reentrantLine && reentrantLine < inversionLine, text);
    assert.match(lines[inversionLine]!, /^ {2}40:11 +error +Store\.a and Store\.b are taken in opposite orders {2}lock-order-inversion$/);
    assert.match(text, /why: Path 1 takes Store\.a then Store\.b/);
    assert.match(text, /fix: Take Store\.a before Store\.b everywhere/);
    assert.match(text, /path 1:\n +src\/store\.ts:12:5 {2}acquire Store\.a\n +src\/store\.ts:14:5 {2}call flush\(\)/);
    assert.match(text, /path 2:\n +src\/other dir\/sync\.ts:8:3 {2}acquire Store\.b/);
    assert.match(text, /see also:\n +src\/store\.ts:12:5 {2}Store\.a acquired first here/);
  });

  it('lists the inventory, skipped files and a summary with counts per severity', () => {
    const text = formatText(sample);
    assert.match(text, /Lock inventory\n +Lock +Declared at +Kind +Acquired at +Across await +Heavy sync\n/);
    assert.match(text, /cacheLock +src\/cache\|v2\.ts:1 +await-lock AwaitLock +src\/cache\|v2\.ts:3 +no +yes/);
    assert.match(text, /Store\.a +src\/store\.ts:4 +async-mutex Mutex +3 sites +yes +no/);
    assert.match(text, /Skipped 1 file \(not audited\):\n {2}src\/broken\.ts: 1:10 '\)' expected/);
    assert.match(text, /deadbolt audit: 12 files, 1 skipped, 3 locks, 2 errors, 1 warning, 1 note \(1\.23 s\)\n$/);
  });

  it('colours only when asked: severities, headers and the summary', () => {
    const coloured = formatText(sample, { color: true });
    assert.match(coloured, /\u001b\[31merror {3}\u001b\[39m/);
    assert.match(coloured, /\u001b\[33mwarning \u001b\[39m/);
    assert.match(coloured, /\u001b\[4msrc\/store\.ts\u001b\[24m/);
    assert.equal(coloured.replace(/\u001b\[\d+m/g, ''), formatText(sample), 'colour adds escapes and nothing else');
  });

  it('--quiet prints the findings only, and nothing at all for a clean result', () => {
    const quiet = formatText(sample, { quiet: true });
    assert.match(quiet, /lock-order-inversion/);
    assert.doesNotMatch(quiet, /Lock inventory|deadbolt audit:|Skipped/);
    assert.equal(formatText(empty, { quiet: true }), '');
  });

  it('labels the kind without repeating it', () => {
    assert.equal(kindLabel({ kind: 'async-mutex', type: 'Mutex' }), 'async-mutex Mutex');
    assert.equal(kindLabel({ kind: 'flag', type: 'boolean flag' }), 'boolean flag');
  });

  it('says "no findings" for a clean result', () => {
    assert.equal(formatText(empty), 'deadbolt audit: 3 files, 0 locks, no findings (0.01 s)\n');
  });
});

describe('markdown reporter', () => {
  const md = formatMarkdown(sample);

  it('has the inventory table with every acquisition site and yes/no columns', () => {
    assert.match(md, /^# Lock audit\n\n12 files audited \(1 skipped\): 3 locks, 2 errors, 1 warning, 1 note\.\n/);
    assert.match(md, /\| Lock \| Declared at \| Kind \| Acquisition sites \| Held across await \| Heavy sync under it \|\n\| :-- \| :-- \| :-- \| :-- \| :-- \| :-- \|\n/);
    assert.ok(md.includes('| Store.a | `src/store.ts:4` | async-mutex (Mutex), rank 10 | `src/store.ts:12`, `src/store.ts:20`, `src/other dir/sync.ts:9` | **yes** | no |'), md);
    // A pipe in a path is inside a code span and escaped, so the row keeps its six cells.
    const cacheRow = md.split('\n').find((l) => l.startsWith('| cacheLock'))!;
    assert.equal(cacheRow.split(/(?<!\\)\|/).length - 2, 6, cacheRow);
    assert.ok(cacheRow.endsWith('| no | **yes** |'), cacheRow);
  });

  it('lists every finding with rule id, severity, location, explanation, fix and paths', () => {
    const sections = md.split(/\n(?=### )/).slice(1);
    assert.equal(sections.length, 4);
    const inv = sections.find((s) => s.includes('lock-order-inversion'))!;
    assert.match(inv, /^### \d\. error: Store\.a and Store\.b are taken in opposite orders\n/);
    assert.match(inv, /- Rule: `lock-order-inversion`/);
    assert.match(inv, /- Severity: error/);
    assert.match(inv, /- Location: `src\/store\.ts:40:11`/);
    assert.match(inv, /\*\*Why\.\*\* Path 1 takes/);
    assert.match(inv, /\*\*Fix\.\*\* Take Store\.a before Store\.b/);
    assert.match(inv, /\*\*Path 1:\*\*\n\n1\. `src\/store\.ts:12:5` acquire Store\.a\n2\. `src\/store\.ts:14:5` call flush\(\)/);
    assert.match(inv, /\*\*Path 2:\*\*/);
    assert.match(inv, /\*\*See also:\*\*\n\n- `src\/store\.ts:12:5` Store\.a acquired first here/);
  });

  it('names skipped files, and handles a clean result', () => {
    assert.match(md, /## Skipped files\n\n.*\n\n- `src\/broken\.ts`: 1:10 '\)' expected/);
    const clean = formatMarkdown(empty);
    assert.match(clean, /No locks found\./);
    assert.match(clean, /## Findings\n\nNo findings\./);
    assert.doesNotMatch(clean, /Skipped/);
  });
});

describe('json reporter', () => {
  it('is the AuditResult, findings in report order', () => {
    const parsed = JSON.parse(formatJson(sample)) as AuditResult;
    assert.deepEqual(parsed, { ...sample, findings: [blocking, note, reentrant, inversion] });
    assert.deepEqual(parsed.findings, sortFindings(sample.findings));
  });
});

describe('formatResult and --fail-on thresholds', () => {
  it('dispatches on the format', () => {
    assert.equal(formatResult(sample, 'json'), formatJson(sample));
    assert.equal(formatResult(sample, 'md'), formatMarkdown(sample));
    assert.equal(formatResult(sample, 'text', { color: true }), formatText(sample, { color: true }));
    assert.equal((JSON.parse(formatResult(sample, 'sarif')) as { version: string }).version, '2.1.0');
  });

  it('fails at or above the threshold, never with none', () => {
    const table = [
      ['error', 'error', true],
      ['warning', 'error', false],
      ['note', 'error', false],
      ['error', 'warning', true],
      ['warning', 'warning', true],
      ['note', 'warning', false],
      ['note', 'note', true],
      ['error', 'none', false],
    ] as const;
    for (const [severity, failOn, expected] of table) assert.equal(failsAt({ severity }, failOn), expected, `${severity} at --fail-on ${failOn}`);
  });
});
