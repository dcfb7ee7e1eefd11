/*
 * The `sarif` format: SARIF 2.1.0, written directly (the ESLint SARIF formatter has no related
 * locations or code flows). What GitHub code scanning uses from it:
 * - `tool.driver.rules`: every rule (not only those with results), with its default level;
 * - per result: the primary location, `relatedLocations` (first acquisition, skipped release...),
 *   `codeFlows` with one thread flow per path (the two orders of an inversion, the path of a
 *   reentrant acquisition), and `partialFingerprints` from Finding.fingerprint, which carries no
 *   line numbers, so an alert survives edits elsewhere in the file;
 * - artifact URIs relative to `%SRCROOT%` (`originalUriBaseIds`), so the log does not depend on
 *   where the checkout was.
 * Files that could not be parsed become tool execution notifications of the invocation.
 */
import { pathToFileURL } from 'node:url';
import { RULE_IDS, type AuditResult, type Finding, type LabelledLocation, type SourceLocation } from '../types.js';
import { RULE_DOCS } from './rule-docs.js';
import { sortFindings } from './severity.js';

/** The key of Finding.fingerprint in `partialFingerprints` (versioned, as the spec recommends). */
export const FINGERPRINT_KEY = 'deadboltFingerprint/v1';
const SRCROOT = 'SRCROOT';

export interface SarifOptions {
  /** The deadbolt version, for `tool.driver.version`. */
  readonly toolVersion?: string;
}

/* A minimal typing of the parts of SARIF 2.1.0 written here (the schema is much larger). */
type SarifLevel = 'error' | 'warning' | 'note' | 'none';
interface Message {
  text: string;
  markdown?: string;
}
interface PhysicalLocation {
  artifactLocation: { uri: string; uriBaseId: string; index?: number };
  region: { startLine: number; startColumn: number; endLine?: number; endColumn?: number };
}
interface SarifLocation {
  id?: number;
  physicalLocation: PhysicalLocation;
  message?: Message;
}
interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: Message;
  locations: SarifLocation[];
  relatedLocations?: SarifLocation[];
  codeFlows?: { message?: Message; threadFlows: { locations: { location: SarifLocation; nestingLevel?: number }[] }[] }[];
  partialFingerprints: Record<string, string>;
  properties?: Record<string, unknown>;
}
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: {
    tool: { driver: Record<string, unknown> & { name: string; rules: Record<string, unknown>[] } };
    originalUriBaseIds: Record<string, { uri: string; description?: Message }>;
    artifacts: { location: { uri: string; uriBaseId: string } }[];
    results: SarifResult[];
    invocations: Record<string, unknown>[];
    columnKind: 'utf16CodeUnits';
  }[];
}

/** A relative path with forward slashes as a URI reference: each segment percent-encoded. */
export function relativeUri(file: string): string {
  return file
    .replace(/\\/g, '/')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/** "lock-order-inversion" -> "LockOrderInversion" (SARIF's reportingDescriptor.name is a PascalCase identifier). */
function pascal(id: string): string {
  return id.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());
}

/**
 * Builds the SARIF log of an audit result (a plain object; JSON.stringify it).
 *
 * @example
 * const log = toSarif(await runAudit(), { toolVersion: '0.1.0' });
 * writeFileSync('deadbolt.sarif', JSON.stringify(log, null, 2));
 */
export function toSarif(result: AuditResult, options: SarifOptions = {}): SarifLog {
  const artifactIndex = new Map<string, number>();
  const artifact = (file: string): number => {
    let index = artifactIndex.get(file);
    if (index === undefined) {
      index = artifactIndex.size;
      artifactIndex.set(file, index);
    }
    return index;
  };
  const physical = (location: SourceLocation): PhysicalLocation => {
    const region: PhysicalLocation['region'] = { startLine: location.line, startColumn: location.column };
    if (location.endLine !== undefined) region.endLine = location.endLine;
    if (location.endColumn !== undefined) region.endColumn = location.endColumn;
    return { artifactLocation: { uri: relativeUri(location.file), uriBaseId: SRCROOT, index: artifact(location.file) }, region };
  };
  const labelled = (location: LabelledLocation, id?: number): SarifLocation => ({
    ...(id === undefined ? {} : { id }),
    physicalLocation: physical(location),
    message: { text: location.message },
  });

  const results = sortFindings(result.findings).map((finding): SarifResult => sarifResult(finding, physical, labelled));
  const rootUri = pathToFileURL(result.root).href;
  const driver = {
    name: 'deadbolt',
    ...(options.toolVersion === undefined ? {} : { version: options.toolVersion, semanticVersion: options.toolVersion }),
    rules: RULE_DOCS.map((doc) => ({
      id: doc.id,
      name: pascal(doc.id),
      shortDescription: { text: `${doc.summary}.` },
      fullDescription: { text: doc.description },
      help: { text: `${doc.description} Fix: ${doc.fix}`, markdown: `**${doc.summary}.** ${doc.description}\n\n**Fix.** ${doc.fix}` },
      defaultConfiguration: { level: doc.defaultSeverity },
      properties: { tags: ['concurrency', 'locks'], precision: 'high' },
    })),
  };
  const invocation = {
    executionSuccessful: true,
    toolExecutionNotifications: result.skipped.map((skipped) => ({
      level: 'warning',
      message: { text: `Not audited: ${skipped.reason}` },
      locations: [{ physicalLocation: { artifactLocation: { uri: relativeUri(skipped.file), uriBaseId: SRCROOT } } }],
      descriptor: { id: 'skipped-file' },
    })),
  };
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver },
        originalUriBaseIds: { [SRCROOT]: { uri: rootUri.endsWith('/') ? rootUri : `${rootUri}/`, description: { text: 'The root the audit made paths relative to.' } } },
        artifacts: [...artifactIndex.keys()].map((file) => ({ location: { uri: relativeUri(file), uriBaseId: SRCROOT } })),
        results,
        invocations: [invocation],
        columnKind: 'utf16CodeUnits',
      },
    ],
  };
}

function sarifResult(
  finding: Finding,
  physical: (location: SourceLocation) => PhysicalLocation,
  labelled: (location: LabelledLocation, id?: number) => SarifLocation,
): SarifResult {
  const out: SarifResult = {
    ruleId: finding.ruleId,
    ruleIndex: RULE_IDS.indexOf(finding.ruleId),
    level: finding.severity,
    message: { text: `${finding.message} Fix: ${finding.fix}` },
    locations: [{ physicalLocation: physical(finding.location) }],
    partialFingerprints: { [FINGERPRINT_KEY]: finding.fingerprint },
    properties: { explanation: finding.explanation, fix: finding.fix, locks: [...finding.locks] },
  };
  if (finding.related.length > 0) out.relatedLocations = finding.related.map((related, i) => labelled(related, i + 1));
  const paths = finding.paths.filter((path) => path.length > 0);
  if (paths.length > 0) {
    // One code flow per path, each a single thread flow, as CodeQL writes them: GitHub shows each
    // code flow as a selectable path. The two orders of an inversion are two flows.
    out.codeFlows = paths.map((path, i) => ({
      message: { text: paths.length > 1 ? `Path ${i + 1} of ${paths.length}` : 'Path' },
      threadFlows: [{ locations: path.map((step) => ({ location: labelled(step) })) }],
    }));
  }
  return out;
}

/** The SARIF log as JSON text. */
export function formatSarif(result: AuditResult, options: SarifOptions = {}): string {
  return `${JSON.stringify(toSarif(result, options), null, 2)}\n`;
}
