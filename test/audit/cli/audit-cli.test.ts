/* eslint-disable no-control-regex -- ANSI colour escapes are what these tests look for */
/*
 * `deadbolt audit` end to end: the built CLI (dist/cli/main.js, built by `npm test`) on source
 * trees written to temporary directories: exit codes, each format, --output, --fail-on,
 * --config, colour decisions and the errors for bad flags and configs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { useColor } from '../../../src/cli/audit.js';
import type { AuditResult } from '../../../src/audit/types.js';
import { BROKEN, CLEAN, FINDINGS, WARNINGS, writeTree } from './fixtures.js';

const root = new URL('../../../', import.meta.url).pathname;
const main = join(root, 'dist/cli/main.js');
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tree(t: Record<string, string>): string {
  const dir = writeTree(t);
  dirs.push(dir);
  return dir;
}

/** Runs the CLI in `cwd` with a clean colour environment (not a TTY: spawnSync pipes). */
function audit(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const base = { ...process.env };
  delete base.NO_COLOR;
  delete base.FORCE_COLOR;
  return spawnSync(process.execPath, [main, 'audit', ...args], { cwd, encoding: 'utf8', env: { ...base, ...env } });
}

const clean = tree(CLEAN);
const findings = tree(FINDINGS);
const warnings = tree(WARNINGS);
const broken = tree(BROKEN);

describe('deadbolt audit: exit codes and --fail-on', () => {
  it('exits 0 on a clean tree, printing the inventory and "no findings"', () => {
    const r = audit(clean, []);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Lock inventory\n.*\n {2}Cache\.mutex +src\/cache\.ts:4 +async-mutex Mutex +src\/cache\.ts:8 +yes +no\n/);
    assert.match(r.stdout, /deadbolt audit: 1 file, 1 lock, no findings \(\d+\.\d\d s\)\n$/);
    assert.equal(r.stderr, '');
  });

  it('exits 1 when a finding is at or above --fail-on (default error), 0 below it or with none', () => {
    const r = audit(findings, []);
    assert.equal(r.status, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /^src\/accounts\.ts$/m);
    assert.match(r.stdout, /error +.*lock-order-inversion/);
    assert.match(r.stdout, /warning +.*blocking-under-lock/);
    assert.equal(audit(findings, ['--fail-on', 'none']).status, 0);
    const w = audit(warnings, []);
    assert.equal(w.status, 0, 'a warning is below the default threshold');
    assert.match(w.stdout, /1 warning/);
    assert.equal(audit(warnings, ['--fail-on', 'warning']).status, 1);
    assert.equal(audit(warnings, ['--fail-on', 'note']).status, 1);
    assert.equal(audit(warnings, ['--fail-on', 'error']).status, 0);
  });

  it('audits only the paths given', () => {
    const r = audit(findings, ['src/config.ts', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.equal(result.filesScanned, 1);
    assert.deepEqual([...new Set(result.findings.map((f) => f.location.file))], ['src/config.ts']);
  });

  it('reports an unparsable file as skipped, audits the rest, and does not fail for it', () => {
    const r = audit(broken, []);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Skipped 1 file \(not audited\):\n {2}src\/broken\.ts: \S/);
    assert.match(r.stdout, /deadbolt audit: 1 file, 1 skipped/);
  });
});

describe('deadbolt audit: formats and --output', () => {
  it('json is the AuditResult with paths relative to the working directory', () => {
    const r = audit(findings, ['--format', 'json', '--fail-on', 'none']);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout) as AuditResult;
    assert.equal(result.filesScanned, 2);
    assert.deepEqual(result.skipped, []);
    assert.deepEqual(result.inventory.map((row) => row.name).sort(), ['Accounts.audit', 'Accounts.ledger', 'lock']);
    const inversion = result.findings.find((f) => f.ruleId === 'lock-order-inversion');
    assert.ok(inversion, JSON.stringify(result.findings.map((f) => f.ruleId)));
    assert.equal(inversion.location.file, 'src/accounts.ts');
    assert.equal(inversion.paths.length, 2, 'both orders');
  });

  it('md has the inventory table and the findings', () => {
    const r = audit(findings, ['--format', 'md']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^# Lock audit\n/);
    assert.match(r.stdout, /\| Accounts\.ledger \| `src\/accounts\.ts:4` \| async-mutex \(Mutex\) \| `src\/accounts\.ts:\d+`, `src\/accounts\.ts:\d+` \| \*\*yes\*\* \| no \|/);
    assert.match(r.stdout, /\| lock \| `src\/config\.ts:4` \| async-mutex \(Mutex\) \| `src\/config\.ts:8` \| no \| \*\*yes\*\* \|/);
    assert.match(r.stdout, /- Rule: `lock-order-inversion`/);
    assert.match(r.stdout, /\*\*Fix\.\*\* \S/);
  });

  it('sarif has rules, results with code flows for the inversion, and SRCROOT-relative URIs', () => {
    const r = audit(findings, ['--format', 'sarif', '--fail-on', 'none']);
    assert.equal(r.status, 0, r.stderr);
    const log = JSON.parse(r.stdout) as { version: string; runs: { tool: { driver: { version: string; rules: unknown[] } }; originalUriBaseIds: { SRCROOT: { uri: string } }; results: { ruleId: string; codeFlows?: unknown[]; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId: string } } }[]; partialFingerprints: Record<string, string> }[] }[] };
    assert.equal(log.version, '2.1.0');
    const run = log.runs[0]!;
    assert.equal(run.tool.driver.rules.length, 8);
    assert.equal(run.tool.driver.version, (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version);
    assert.equal(run.originalUriBaseIds.SRCROOT.uri, `file://${findings}/`);
    const inversion = run.results.find((x) => x.ruleId === 'lock-order-inversion')!;
    assert.equal(inversion.codeFlows?.length, 2);
    assert.deepEqual(inversion.locations[0]!.physicalLocation.artifactLocation, { uri: 'src/accounts.ts', uriBaseId: 'SRCROOT', index: 0 });
    assert.match(Object.values(inversion.partialFingerprints)[0]!, /\S/);
  });

  it('--output writes the report to a file (never coloured) and nothing to stdout', () => {
    const out = join(findings, 'report.txt');
    const r = audit(findings, ['--output', 'report.txt'], { FORCE_COLOR: '1' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const text = readFileSync(out, 'utf8');
    assert.match(text, /lock-order-inversion/);
    assert.doesNotMatch(text, /\u001b\[/);
    rmSync(out);
  });

  it('colour: FORCE_COLOR turns it on off a TTY; NO_COLOR and --no-color win', () => {
    assert.match(audit(findings, [], { FORCE_COLOR: '1' }).stdout, /\u001b\[31merror/);
    assert.doesNotMatch(audit(findings, []).stdout, /\u001b\[/, 'not a TTY: plain');
    assert.doesNotMatch(audit(findings, [], { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout, /\u001b\[/);
    assert.doesNotMatch(audit(findings, ['--no-color'], { FORCE_COLOR: '1' }).stdout, /\u001b\[/);
  });

  it('useColor: a TTY gets colour unless told otherwise; only the text format is coloured', () => {
    const base = { flag: true, format: 'text' as const, toFile: false, isTTY: true, env: {} };
    assert.equal(useColor(base), true);
    assert.equal(useColor({ ...base, isTTY: false }), false);
    assert.equal(useColor({ ...base, env: { NO_COLOR: '1' } }), false);
    assert.equal(useColor({ ...base, env: { NO_COLOR: '' } }), true, 'an empty NO_COLOR does not count (no-color.org)');
    assert.equal(useColor({ ...base, flag: false }), false);
    assert.equal(useColor({ ...base, toFile: true }), false);
    assert.equal(useColor({ ...base, format: 'md' }), false);
    assert.equal(useColor({ ...base, isTTY: false, env: { FORCE_COLOR: '0' } }), false);
  });

  it('--quiet prints only the findings', () => {
    const r = audit(findings, ['--quiet']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /lock-order-inversion/);
    assert.doesNotMatch(r.stdout, /Lock inventory|deadbolt audit:/);
    assert.equal(audit(clean, ['--quiet']).stdout, '');
  });
});

describe('deadbolt audit: config', () => {
  it('applies the config found in the package (rules off, ignore), and --config picks another file', () => {
    const dir = tree({ ...FINDINGS, 'deadbolt.config.json': JSON.stringify({ rules: { 'lock-order-inversion': 'off' } }), 'strict.json': JSON.stringify({ rules: { 'blocking-under-lock': 'error' } }) });
    const r = audit(dir, ['--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    const ids = (JSON.parse(r.stdout) as AuditResult).findings.map((f) => f.ruleId);
    assert.ok(!ids.includes('lock-order-inversion') && ids.includes('blocking-under-lock'), ids.join());
    const strict = audit(dir, ['--config', 'strict.json', '--format', 'json']);
    assert.equal(strict.status, 1, 'blocking-under-lock raised to error');
    const severities = (JSON.parse(strict.stdout) as AuditResult).findings.filter((f) => f.ruleId === 'blocking-under-lock').map((f) => f.severity);
    assert.deepEqual([...new Set(severities)], ['error']);
  });

  it('a bad config exits 2 naming the file and the key', () => {
    const dir = tree({ ...CLEAN, 'deadbolt.config.json': JSON.stringify({ rules: { 'lock-order': 'off' } }) });
    const r = audit(dir, []);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^deadbolt audit: config error: ${join(dir, 'deadbolt.config.json')}: rules\\.lock-order: unknown rule id`));
    const typo = tree({ ...CLEAN, 'package.json': JSON.stringify({ name: 'x', deadbolt: { ignores: ['a'] } }) });
    assert.match(audit(typo, []).stderr, /package\.json: ignores: unknown key/);
    const missing = audit(clean, ['--config', 'nope.json']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.json: no such file/);
  });
});

describe('deadbolt audit: usage errors exit 2 and name the flag or value', () => {
  const cases: [string[], RegExp][] = [
    [['--format', 'xml'], /--format: unknown format "xml"; expected one of text, md, json, sarif/],
    [['--fail-on', 'warn'], /--fail-on: unknown severity "warn"; expected one of error, warning, note, none/],
    [['--fromat', 'md'], /Unknown option '--fromat'/],
    [['--format'], /--format/],
    [['--output', ''], /--output: expected a file name/],
    [['does/not/exist'], /path "does\/not\/exist" does not exist/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' ') || '(empty)', () => {
      const r = audit(clean, args);
      assert.equal(r.status, 2, r.stdout);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }

  it('--help prints the usage and exits 0; deadbolt help lists the audit command', () => {
    const r = audit(clean, ['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: deadbolt audit \[paths\.\.\.\] \[options\]/);
    const help = spawnSync(process.execPath, [main, 'help'], { encoding: 'utf8' });
    assert.match(help.stdout, /\n {2}audit \[paths\.\.\.\] \[--format text\|md\|json\|sarif\]/);
  });

  it('--output to an unwritable place exits 2', () => {
    const r = audit(clean, ['--output', join(clean, 'no/such/dir/report.txt')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--output: cannot write/);
  });
});

// The progress indicator needs a TTY stderr; the text path is covered through auditCommand's io.
describe('deadbolt audit: progress indicator', () => {
  it('draws progress on a TTY stderr for more than 200 files, and erases it', async () => {
    const { auditCommand } = await import('../../../src/cli/audit.js');
    const many: Record<string, string> = { 'package.json': '{}' };
    for (let i = 0; i < 230; i++) many[`src/f${i}.ts`] = `export const v${i} = ${i};\n`;
    const dir = tree(many);
    const captured = { out: '', err: '' };
    const io = {
      stdout: { write: (s: string) => (captured.out += s), isTTY: false },
      stderr: { write: (s: string) => (captured.err += s), isTTY: true },
      env: {},
      cwd: dir,
    };
    assert.equal(await auditCommand([], io), 0);
    assert.match(captured.err, /deadbolt audit: \d+\/230 files \(\d+%\)/);
    assert.ok(captured.err.endsWith('\r\u001b[2K'), 'the line is erased at the end');
    assert.match(captured.out, /230 files/);
    captured.err = '';
    assert.equal(await auditCommand(['--quiet'], io), 0);
    assert.equal(captured.err, '', '--quiet: no progress');
    captured.err = '';
    assert.equal(await auditCommand(['src/f1.ts', 'src/f2.ts'], io), 0);
    assert.equal(captured.err, '', 'small runs: no progress');
  });
});

// A config file's `locks[].path` is relative to the config; the audit keys files relative to its
// root. The CLI must match the two wherever the config lives and whatever the paths audited are.
describe('deadbolt audit: lock types declared by file in a config', () => {
  const lockClass = `export class Gate {\n  async lock(): Promise<{ release(): void }> {\n    return { release() {} };\n  }\n}\n`;
  const user = `import { Gate } from '../lib/gate.js';\nconst a = new Gate();\nconst b = new Gate();\nexport async function one() {\n  const ga = await a.lock();\n  try {\n    const gb = await b.lock();\n    gb.release();\n  } finally {\n    ga.release();\n  }\n}\nexport async function two() {\n  const gb = await b.lock();\n  try {\n    const ga = await a.lock();\n    ga.release();\n  } finally {\n    gb.release();\n  }\n}\n`;
  const config = JSON.stringify({ locks: [{ from: 'file', path: 'lib/gate.ts', name: 'Gate', acquire: ['lock'], run: [], release: [] }] });

  it('recognises the declared type when auditing a subdirectory, and finds the inversion', () => {
    const dir = tree({ 'package.json': '{}', 'deadbolt.config.json': config, 'lib/gate.ts': lockClass, 'src/use.ts': user });
    const r = audit(dir, ['.', '--format', 'json']);
    const result = JSON.parse(r.stdout) as { inventory: { name: string }[]; findings: { ruleId: string }[] };
    assert.deepEqual(result.inventory.map((row) => row.name).sort(), ['a', 'b']);
    assert.deepEqual(result.findings.map((f) => f.ruleId), ['lock-order-inversion']);
    assert.equal(r.status, 1);
  });

  it('with --config pointing at the config from elsewhere', () => {
    const dir = tree({ 'package.json': '{}', 'conf/deadbolt.config.json': JSON.stringify({ locks: [{ from: 'file', path: '../lib/gate.ts', name: 'Gate', acquire: ['lock'], run: [], release: [] }] }), 'lib/gate.ts': lockClass, 'src/use.ts': user });
    const r = audit(dir, ['.', '--config', 'conf/deadbolt.config.json', '--format', 'json']);
    const result = JSON.parse(r.stdout) as { inventory: { name: string }[] };
    assert.deepEqual(result.inventory.map((row) => row.name).sort(), ['a', 'b'], r.stderr);
  });
});
