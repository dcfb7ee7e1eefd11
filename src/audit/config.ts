/*
 * Loading and validating the audit's configuration: deadbolt.config.json, deadbolt.config.js /
 * .mjs / .cjs, deadbolt.config.ts (/.mts), or the `deadbolt` key of package.json. The lookup
 * starts in the audit's directory and walks up to the nearest directory with a package.json (the
 * package root), taking the first directory that has a config. Validation is strict: an unknown
 * key, a wrong type or an unknown rule id is an AuditConfigError naming the key and the file,
 * because a misspelt option that is silently ignored gives a clean audit that is not.
 *
 * A .ts config is transpiled with the installed `typescript` (a runtime dependency already, the
 * audit's parser) to a temporary .mjs beside it, imported, and deleted: beside it, so that its
 * relative imports resolve as written; `typescript` rather than tsx, because tsx is only a
 * development dependency of deadbolt and Node 20 cannot strip types itself.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AuditConfigError, validateConfig } from './config-validate.js';
import type { AuditConfig } from './types.js';

export { AuditConfigError, validateConfig } from './config-validate.js';

/** Config file names, in the order they are looked for in one directory. */
export const CONFIG_FILES = ['deadbolt.config.json', 'deadbolt.config.ts', 'deadbolt.config.mts', 'deadbolt.config.js', 'deadbolt.config.mjs', 'deadbolt.config.cjs'] as const;

/** A loaded configuration and where it came from. */
export interface LoadedConfig {
  readonly config: AuditConfig;
  /** The file it was read from (a package.json for the `deadbolt` key); undefined when none was found. */
  readonly file?: string;
}

export interface LoadConfigOptions {
  /** Where the lookup starts (the audit's directory); default the current directory. */
  readonly from?: string;
  /** An explicit config file (`--config`): no lookup. */
  readonly file?: string;
}

/**
 * Finds the config file for a directory without reading it: the first directory from `from`
 * upward that has one of CONFIG_FILES or a package.json with a `deadbolt` key; the walk stops at
 * the first directory that has a package.json. Two config files in one directory are an error.
 *
 * @example
 * findConfigFile('/repo/src'); // '/repo/deadbolt.config.json', or undefined
 */
export function findConfigFile(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const found = CONFIG_FILES.map((name) => join(dir, name)).filter((file) => existsSync(file));
    const packageJson = join(dir, 'package.json');
    const hasPackageJson = existsSync(packageJson);
    if (hasPackageJson && readJson(packageJson) !== undefined) found.push(packageJson);
    if (found.length > 1) throw new AuditConfigError(found[0]!, `more than one deadbolt config in ${dir}: ${found.map((f) => basename(f)).join(', ')}; keep one`);
    if (found.length === 1) return found[0];
    const parent = dirname(dir);
    if (hasPackageJson || parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Loads and validates the config for an audit: the explicit `file`, or the one found from
 * `from` (see findConfigFile), or an empty config when there is none.
 *
 * @example
 * const { config, file } = await loadConfig({ from: process.cwd() });
 * const result = await runAudit({ config });
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = locate(options);
  if (file === undefined) return { config: {} };
  if (!existsSync(file)) throw new AuditConfigError(file, 'no such file');
  const raw = await readConfigValue(file);
  if (raw === undefined && basename(file) !== 'package.json') throw new AuditConfigError(file, 'exports no config (expected `export default { ... }` or a JSON object)');
  return loaded(raw, file);
}

/**
 * The synchronous subset, for callers that cannot await (ESLint rules): JSON configs and the
 * package.json key. A JavaScript or TypeScript config found here is an error that says so.
 */
export function loadConfigSync(options: LoadConfigOptions = {}): LoadedConfig {
  const file = locate(options);
  if (file === undefined) return { config: {} };
  if (!file.endsWith('.json')) {
    throw new AuditConfigError(file, 'a JavaScript or TypeScript config cannot be loaded synchronously (ESLint rules are synchronous); import it in eslint.config.js and pass it as `settings.deadbolt`, or use deadbolt.config.json');
  }
  if (!existsSync(file)) throw new AuditConfigError(file, 'no such file');
  return loaded(readJson(file), file);
}

function locate(options: LoadConfigOptions): string | undefined {
  return options.file === undefined ? findConfigFile(options.from ?? process.cwd()) : resolve(options.file);
}

function loaded(raw: unknown, file: string): LoadedConfig {
  return { config: absolutePaths(validateConfig(raw, file), dirname(file)), file };
}

function readJson(file: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AuditConfigError(file, `cannot parse: ${(error as Error).message}`);
  }
  if (basename(file) === 'package.json') return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>).deadbolt : undefined;
  return parsed;
}

async function readConfigValue(file: string): Promise<unknown> {
  if (file.endsWith('.json')) return readJson(file);
  if (/\.[mc]?ts$/.test(file)) return importTypeScript(file);
  return defaultExport(await importConfig(file));
}

async function importConfig(file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(`${pathToFileURL(file).href}?t=${Date.now()}`)) as Record<string, unknown>;
  } catch (error) {
    throw new AuditConfigError(file, `cannot load: ${(error as Error).message}`);
  }
}

function defaultExport(module: Record<string, unknown>): unknown {
  return 'default' in module ? module.default : module;
}

async function importTypeScript(file: string): Promise<unknown> {
  const { default: ts } = await import('typescript');
  const { outputText, diagnostics } = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false, sourceMap: false },
  });
  const syntaxError = diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (syntaxError !== undefined) throw new AuditConfigError(file, `cannot compile: ${ts.flattenDiagnosticMessageText(syntaxError.messageText, '\n')}`);
  // Beside the config, so that its relative imports resolve as they would from the config itself.
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.mjs`);
  try {
    writeFileSync(temp, outputText);
  } catch (error) {
    throw new AuditConfigError(file, `cannot write the compiled config beside it (${temp}): ${(error as Error).message}. Use deadbolt.config.json or a .js config in a read-only directory.`);
  }
  try {
    return defaultExport(await importConfig(temp));
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Makes `locks[].path` (relative to the config file, as documented) absolute, so it means the same from any audit root. */
function absolutePaths(config: AuditConfig, configDir: string): AuditConfig {
  if (config.locks === undefined) return config;
  return { ...config, locks: config.locks.map((lock) => (lock.path === undefined || isAbsolute(lock.path) ? lock : { ...lock, path: resolve(configDir, lock.path) })) };
}
