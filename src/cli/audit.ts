/*
 * `deadbolt audit [paths...]`: the static lock audit as a command. Parses its flags, loads the
 * config, runs the analysis, writes the report in the chosen format and turns the findings into
 * an exit code: 0 clean, 1 findings at or above --fail-on, 2 a usage or config error (with a
 * message naming the flag, value, key or file at fault).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditConfigError, loadConfig } from '../audit/config.js';
import { runAudit, type AuditConfig, type AuditResult } from '../audit/index.js';
import { FAIL_ON_VALUES, failsAt, FORMATS, formatResult, type FailOn, type Format } from '../audit/reporters/index.js';

export const AUDIT_USAGE = `Usage: deadbolt audit [paths...] [options]

Audits TypeScript and JavaScript sources for lock problems (order inversions, reentrant
acquisitions, unreleased locks, callbacks and blocking work under locks, ...) and lists
every lock. Paths default to the current directory; directories respect .gitignore.

Options:
  --format <text|md|json|sarif>   Report format (default text).
  --output <file>                 Write the report to <file> instead of stdout.
  --fail-on <error|warning|note|none>
                                  Exit 1 if a finding is at or above this severity
                                  (default error; none: never).
  --config <file>                 Config file (default: deadbolt.config.{json,ts,js} or the
                                  "deadbolt" key of package.json, looked up from the first
                                  path to the package root).
  --no-color                      No colours (also: NO_COLOR=1, or when stdout is not a TTY).
  --quiet                         Only the findings: no inventory, summary or progress.
  -h, --help                      Show this help.

Exit codes: 0 no finding at or above --fail-on, 1 some, 2 usage or config error.`;

/** Where the command writes; the real process streams by default, a capture in tests. */
export interface AuditIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

const PROCESS_IO: AuditIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  get env() {
    return process.env;
  },
  get cwd() {
    return process.cwd();
  },
};

/** The progress indicator appears only for more files than this (a small repo is done before it is read). */
export const PROGRESS_MIN_FILES = 200;

class UsageError extends Error {}

interface Parsed {
  readonly paths: string[];
  readonly format: Format;
  readonly output?: string;
  readonly failOn: FailOn;
  readonly config?: string;
  readonly color: boolean;
  readonly quiet: boolean;
  readonly help: boolean;
}

function parse(args: readonly string[]): Parsed {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string' },
        output: { type: 'string', short: 'o' },
        'fail-on': { type: 'string' },
        config: { type: 'string', short: 'c' },
        'no-color': { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    // parseArgs says e.g. "Unknown option '--fromat'" or "Option '--format <value>' argument missing".
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const format = (values.format as string | undefined) ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: unknown format ${JSON.stringify(format)}; expected one of ${FORMATS.join(', ')}`);
  const failOn = (values['fail-on'] as string | undefined) ?? 'error';
  if (!(FAIL_ON_VALUES as readonly string[]).includes(failOn)) throw new UsageError(`--fail-on: unknown severity ${JSON.stringify(failOn)}; expected one of ${FAIL_ON_VALUES.join(', ')}`);
  for (const flag of ['output', 'config'] as const) {
    if (values[flag] === '') throw new UsageError(`--${flag}: expected a file name, got an empty string`);
  }
  return {
    paths: positionals,
    format: format as Format,
    ...(values.output === undefined ? {} : { output: values.output as string }),
    failOn: failOn as FailOn,
    ...(values.config === undefined ? {} : { config: values.config as string }),
    color: values['no-color'] !== true,
    quiet: values.quiet === true,
    help: values.help === true,
  };
}

/**
 * Whether the text report gets colours: never with --no-color, NO_COLOR, an --output file or a
 * non-text format; always with FORCE_COLOR (other than 0); otherwise when stdout is a TTY.
 *
 * @example
 * useColor({ flag: true, format: 'text', toFile: false, isTTY: true, env: {} }); // true
 */
export function useColor(o: { flag: boolean; format: Format; toFile: boolean; isTTY: boolean | undefined; env: NodeJS.ProcessEnv }): boolean {
  if (!o.flag || o.format !== 'text' || o.toFile) return false;
  if (o.env.NO_COLOR !== undefined && o.env.NO_COLOR !== '') return false;
  if (o.env.FORCE_COLOR !== undefined && o.env.FORCE_COLOR !== '0' && o.env.FORCE_COLOR !== 'false') return true;
  return o.isTTY === true;
}

/** deadbolt's version, from the package.json two levels above this file (src/cli or dist/cli). */
/** deadbolt's own version, from its package.json (not the calling project's). */
export function version(): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** A one-line progress indicator on a TTY stderr, redrawn at most every 100 ms, erased at the end. */
function progress(stderr: AuditIo['stderr']): { onProgress: (done: number, total: number) => void; done: () => void } {
  let last = 0;
  let drawn = false;
  return {
    onProgress(done, total) {
      if (total <= PROGRESS_MIN_FILES) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      drawn = true;
      stderr.write(`\r\u001b[2Kdeadbolt audit: ${done}/${total} files (${Math.floor((done / total) * 100)}%)`);
    },
    done() {
      if (drawn) stderr.write('\r\u001b[2K');
    },
  };
}

/**
 * Runs `deadbolt audit` with `args` (the words after `audit`) and returns the exit code.
 *
 * @example
 * process.exitCode = await auditCommand(['src', '--format', 'sarif', '--output', 'deadbolt.sarif']);
 */
export async function auditCommand(args: readonly string[], io: AuditIo = PROCESS_IO): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`deadbolt audit: ${error.message}\nRun \`deadbolt audit --help\` for the options.\n`);
    return 2;
  }
  if (parsed.help) {
    io.stdout.write(`${AUDIT_USAGE}\n`);
    return 0;
  }
  const paths = parsed.paths.length === 0 ? [io.cwd] : parsed.paths.map((p) => resolve(io.cwd, p));
  for (const [i, path] of paths.entries()) {
    try {
      statSync(path);
    } catch {
      io.stderr.write(`deadbolt audit: path ${JSON.stringify(parsed.paths[i])} does not exist\n`);
      return 2;
    }
  }

  let config: AuditConfig;
  try {
    const first = paths[0]!;
    const from = statSync(first).isDirectory() ? first : dirname(first);
    config = (await loadConfig(parsed.config === undefined ? { from } : { file: resolve(io.cwd, parsed.config) })).config;
  } catch (error) {
    if (!(error instanceof AuditConfigError)) throw error;
    io.stderr.write(`deadbolt audit: config error: ${error.message}\n`);
    return 2;
  }

  const indicator = io.stderr.isTTY === true && !parsed.quiet ? progress(io.stderr) : undefined;
  let result: AuditResult;
  try {
    result = await runAudit({ paths, root: io.cwd, config, ...(indicator === undefined ? {} : { onProgress: indicator.onProgress }) });
  } finally {
    indicator?.done();
  }

  const toolVersion = version();
  const color = useColor({ flag: parsed.color, format: parsed.format, toFile: parsed.output !== undefined, isTTY: io.stdout.isTTY, env: io.env });
  const report = formatResult(result, parsed.format, { color, quiet: parsed.quiet, ...(toolVersion === undefined ? {} : { toolVersion }) });
  if (parsed.output === undefined) io.stdout.write(report);
  else {
    try {
      writeFileSync(resolve(io.cwd, parsed.output), report);
    } catch (error) {
      io.stderr.write(`deadbolt audit: --output: cannot write ${JSON.stringify(parsed.output)}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  return result.findings.some((finding) => failsAt(finding, parsed.failOn)) ? 1 : 0;
}
