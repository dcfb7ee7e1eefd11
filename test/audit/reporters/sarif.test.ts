import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { FINGERPRINT_KEY, RULE_DOCS, toSarif } from '../../../src/audit/reporters/index.js';
import { RULE_IDS, type AuditResult, type Finding } from '../../../src/audit/types.js';
import { blocking, empty, inversion, reentrant, sample } from './sample-result.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const log = toSarif(sample, { toolVersion: '1.2.3' }) as unknown as Json;
const run = log.runs[0] as Json;
const resultFor = (ruleId: string): Json => (run.results as Json[]).find((r) => r.ruleId === ruleId)!;

/**
 * The official SARIF 2.1.0 schema (rtm.5, the final 2.1.0 schema) ships in @microsoft/jest-sarif,
 * a devDependency; ajv 6 (its dependency) validates draft-04 schemas.
 */
function schemaValidator(): ((value: unknown) => { valid: boolean; errors: string }) | undefined {
  const projectRequire = createRequire(new URL('../../../package.json', import.meta.url));
  let schemaPath: string;
  try {
    schemaPath = projectRequire.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
  } catch {
    return undefined;
  }
  const fromJestSarif = createRequire(schemaPath);
  const Ajv = fromJestSarif('ajv') as new (options: object) => Json;
  const ajv = new Ajv({ schemaId: 'auto', allErrors: true, jsonPointers: true });
  ajv.addMetaSchema(fromJestSarif('ajv/lib/refs/json-schema-draft-04.json'));
  const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')));
  return (value) => ({ valid: validate(value) as boolean, errors: ajv.errorsText(validate.errors, { separator: '\n' }) as string });
}
const validator = schemaValidator();

describe('SARIF reporter', () => {
  it('is valid against the official SARIF 2.1.0 JSON schema', { skip: validator === undefined ? '@microsoft/jest-sarif (which ships the schema) is not installed' : false }, () => {
    for (const result of [sample, empty]) {
      const { valid, errors } = validator!(JSON.parse(JSON.stringify(toSarif(result, { toolVersion: '1.2.3' }))));
      assert.ok(valid, errors);
    }
    // The validator is not a rubber stamp: a level SARIF does not know fails.
    const broken = JSON.parse(JSON.stringify(log)) as Json;
    broken.runs[0].results[0].level = 'fatal';
    assert.equal(validator!(broken).valid, false);
  });

  it('declares every rule with descriptions, help and its default level; results point at them by index', () => {
    assert.equal(log.version, '2.1.0');
    const driver = run.tool.driver as Json;
    assert.equal(driver.name, 'deadbolt');
    assert.equal(driver.version, '1.2.3');
    assert.deepEqual(
      (driver.rules as Json[]).map((r) => r.id),
      [...RULE_IDS],
    );
    for (const [i, rule] of (driver.rules as Json[]).entries()) {
      const doc = RULE_DOCS[i]!;
      assert.equal(rule.shortDescription.text, `${doc.summary}.`);
      assert.equal(rule.fullDescription.text, doc.description);
      assert.equal(rule.help.text, `${doc.description} Fix: ${doc.fix}`);
      assert.equal(rule.defaultConfiguration.level, doc.defaultSeverity);
    }
    assert.equal((run.results as Json[]).length, 4);
    for (const result of run.results as Json[]) assert.equal((driver.rules as Json[])[result.ruleIndex as number]!.id, result.ruleId);
  });

  it('writes level, message with the fix, and the primary location relative to %SRCROOT%', () => {
    const r = resultFor('lock-order-inversion');
    assert.equal(r.level, 'error');
    assert.equal(resultFor('blocking-under-lock').level, 'warning');
    assert.equal(resultFor('check-then-acquire').level, 'note');
    assert.equal(r.message.text, `${inversion.message} Fix: ${inversion.fix}`);
    assert.deepEqual(r.locations[0].physicalLocation.region, { startLine: 40, startColumn: 11, endLine: 40, endColumn: 30 });
    assert.equal(r.locations[0].physicalLocation.artifactLocation.uri, 'src/store.ts');
    assert.equal(r.locations[0].physicalLocation.artifactLocation.uriBaseId, 'SRCROOT');
    assert.deepEqual(run.originalUriBaseIds.SRCROOT.uri, 'file:///repo/app/');
    // Spaces and pipes are percent-encoded; the artifacts table lists each file once, indexes agree.
    const related = r.relatedLocations as Json[];
    assert.equal(related[1]!.physicalLocation.artifactLocation.uri, 'src/other%20dir/sync.ts');
    assert.equal(resultFor('blocking-under-lock').locations[0].physicalLocation.artifactLocation.uri, 'src/cache%7Cv2.ts');
    const artifacts = (run.artifacts as Json[]).map((a) => a.location.uri);
    assert.equal(new Set(artifacts).size, artifacts.length);
    for (const result of run.results as Json[]) {
      const location = result.locations[0].physicalLocation.artifactLocation;
      assert.equal(artifacts[location.index], location.uri);
    }
  });

  it('gives related locations with ids and messages, and one code flow per path', () => {
    const r = resultFor('lock-order-inversion');
    assert.deepEqual(
      (r.relatedLocations as Json[]).map((l) => [l.id, l.message.text, l.physicalLocation.region.startLine]),
      [
        [1, 'Store.a acquired first here', 12],
        [2, 'the other order starts here', 8],
      ],
    );
    const flows = r.codeFlows as Json[];
    assert.equal(flows.length, 2, 'both orders of the inversion');
    const steps = (flow: Json) => (flow.threadFlows[0].locations as Json[]).map((l) => `${l.location.physicalLocation.artifactLocation.uri}:${l.location.physicalLocation.region.startLine} ${l.location.message.text}`);
    assert.deepEqual(steps(flows[0]!), ['src/store.ts:12 acquire Store.a', 'src/store.ts:14 call flush()', 'src/store.ts:40 acquire Store.b while holding Store.a']);
    assert.deepEqual(steps(flows[1]!), ['src/other%20dir/sync.ts:8 acquire Store.b', 'src/other%20dir/sync.ts:9 acquire Store.a while holding Store.b']);
    const re = resultFor('reentrant-acquire');
    assert.equal((re.codeFlows as Json[]).length, 1);
    assert.equal(re.relatedLocations, undefined);
    assert.equal(resultFor('blocking-under-lock').codeFlows, undefined);
  });

  it('fingerprints come from Finding.fingerprint, so moving code does not change them', () => {
    const shift = (f: Finding, by: number): Finding => ({
      ...f,
      location: { ...f.location, line: f.location.line + by },
      related: f.related.map((l) => ({ ...l, line: l.line + by })),
      paths: f.paths.map((p) => p.map((l) => ({ ...l, line: l.line + by }))),
    });
    const moved: AuditResult = { ...sample, findings: [shift(inversion, 7), shift(reentrant, 3), blocking] };
    const prints = (result: AuditResult) => new Map((toSarif(result).runs[0]!.results as Json[]).map((r) => [r.ruleId as string, r.partialFingerprints[FINGERPRINT_KEY] as string]));
    const before = prints(sample);
    const after = prints(moved);
    assert.equal(after.get('lock-order-inversion'), inversion.fingerprint);
    for (const [rule, print] of after) assert.equal(print, before.get(rule), rule);
    assert.equal(new Set(before.values()).size, 4, 'distinct findings, distinct fingerprints');
  });

  it('reports skipped files as tool execution notifications', () => {
    const notes = run.invocations[0].toolExecutionNotifications as Json[];
    assert.equal(run.invocations[0].executionSuccessful, true);
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.level, 'warning');
    assert.match(notes[0]!.message.text, /Not audited: 1:10 '\)' expected/);
    assert.equal(notes[0]!.locations[0].physicalLocation.artifactLocation.uri, 'src/broken.ts');
  });
});
