/*
 * Strict validation of an AuditConfig read from a file: every key known, every value of the
 * right type, every rule id one the audit has. Errors name the file and the key path
 * (`rules.lock-order`, `locks[1].acquire[0]`), because the config is written by hand.
 */
import { RULE_IDS, type AuditConfig, type LockTypeSpecifier, type RuleId, type Severity, type WrapperSpecifier } from './types.js';

/**
 * A config file that cannot be used: unreadable, unparsable, or invalid. `code` is
 * `ERR_AUDIT_CONFIG`; `file` is the file and `key` the offending key path, when there is one.
 */
export class AuditConfigError extends Error {
  readonly code = 'ERR_AUDIT_CONFIG';
  constructor(
    readonly file: string,
    detail: string,
    readonly key?: string,
  ) {
    super(`${file}: ${key === undefined ? '' : `${key}: `}${detail}`);
    this.name = 'AuditConfigError';
  }
}

const TOP_KEYS = ['$schema', 'locks', 'wrappers', 'ranks', 'ignore', 'rules', 'bigJsonBytes'] as const;
const LOCK_KEYS = ['from', 'name', 'package', 'path', 'acquire', 'run', 'release', 'reentrant'] as const;
const WRAPPER_KEYS = ['name', 'callbackArg'] as const;
const RULE_LEVELS: readonly (Severity | 'off')[] = ['error', 'warning', 'note', 'off'];

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

class Checker {
  constructor(private readonly file: string) {}

  fail(key: string, detail: string): never {
    throw new AuditConfigError(this.file, detail, key);
  }

  /** An object whose keys are `allowed` (null: any key, as for a map of names). */
  object(value: unknown, key: string, allowed: readonly string[] | null): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(key, `expected an object, got ${describe(value)}`);
    const record = value as Record<string, unknown>;
    if (allowed === null) return record;
    for (const name of Object.keys(record)) {
      if (!allowed.includes(name)) this.fail(key === '' ? name : `${key}.${name}`, `unknown key; expected one of ${allowed.filter((k) => k !== '$schema').join(', ')}`);
    }
    return record;
  }

  string(value: unknown, key: string): string {
    if (typeof value !== 'string' || value === '') this.fail(key, `expected a non-empty string, got ${describe(value)}`);
    return value;
  }

  strings(value: unknown, key: string): string[] {
    if (!Array.isArray(value)) this.fail(key, `expected an array of strings, got ${describe(value)}`);
    return value.map((item, i) => this.string(item, `${key}[${i}]`));
  }

  boolean(value: unknown, key: string): boolean {
    if (typeof value !== 'boolean') this.fail(key, `expected true or false, got ${describe(value)}`);
    return value;
  }

  number(value: unknown, key: string, { integer = false, min = -Infinity }: { integer?: boolean; min?: number } = {}): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(key, `expected a number, got ${describe(value)}`);
    if (integer && !Number.isInteger(value)) this.fail(key, `expected an integer, got ${value}`);
    if (value < min) this.fail(key, `expected at least ${min}, got ${value}`);
    return value;
  }

  array(value: unknown, key: string): unknown[] {
    if (!Array.isArray(value)) this.fail(key, `expected an array, got ${describe(value)}`);
    return value;
  }
}

function lockSpec(check: Checker, value: unknown, key: string): LockTypeSpecifier {
  const raw = check.object(value, key, LOCK_KEYS);
  if (raw.from !== 'package' && raw.from !== 'file') check.fail(`${key}.from`, `expected "package" or "file", got ${describe(raw.from)}`);
  const spec: { -readonly [K in keyof LockTypeSpecifier]: LockTypeSpecifier[K] } = { from: raw.from, name: check.string(raw.name, `${key}.name`) };
  if (raw.from === 'package') {
    if (raw.package === undefined) check.fail(`${key}.package`, 'required when "from" is "package" (the package that exports the lock type)');
    if (raw.path !== undefined) check.fail(`${key}.path`, 'only for "from": "file"');
  } else {
    if (raw.path === undefined) check.fail(`${key}.path`, 'required when "from" is "file" (the file that declares the lock type, relative to the config)');
    if (raw.package !== undefined) check.fail(`${key}.package`, 'only for "from": "package"');
  }
  if (raw.package !== undefined) spec.package = check.string(raw.package, `${key}.package`);
  if (raw.path !== undefined) spec.path = check.string(raw.path, `${key}.path`);
  for (const methods of ['acquire', 'run', 'release'] as const) {
    if (raw[methods] !== undefined) spec[methods] = check.strings(raw[methods], `${key}.${methods}`);
  }
  if (raw.reentrant !== undefined) spec.reentrant = check.boolean(raw.reentrant, `${key}.reentrant`);
  return spec;
}

function wrapperSpec(check: Checker, value: unknown, key: string): WrapperSpecifier {
  const raw = check.object(value, key, WRAPPER_KEYS);
  const name = check.string(raw.name, `${key}.name`);
  if (raw.callbackArg === undefined) return { name };
  return { name, callbackArg: check.number(raw.callbackArg, `${key}.callbackArg`, { integer: true, min: 0 }) };
}

/**
 * Validates a config value read from `file` and returns it typed, without unknown keys (the
 * optional `$schema` key, for editors, is dropped). Throws AuditConfigError on the first problem.
 *
 * @example
 * validateConfig({ rules: { 'callback-under-lock': 'off' } }, 'deadbolt.config.json'); // ok
 * validateConfig({ rules: { 'lock-order': 'off' } }, 'deadbolt.config.json');
 * // AuditConfigError: deadbolt.config.json: rules.lock-order: unknown rule id; expected one of ...
 */
export function validateConfig(value: unknown, file: string): AuditConfig {
  const check = new Checker(file);
  if (value === undefined) return {};
  const raw = check.object(value, '', TOP_KEYS);
  const config: { -readonly [K in keyof AuditConfig]: AuditConfig[K] } = {};
  if (raw.$schema !== undefined) check.string(raw.$schema, '$schema');
  if (raw.locks !== undefined) config.locks = check.array(raw.locks, 'locks').map((lock, i) => lockSpec(check, lock, `locks[${i}]`));
  if (raw.wrappers !== undefined) config.wrappers = check.array(raw.wrappers, 'wrappers').map((wrapper, i) => wrapperSpec(check, wrapper, `wrappers[${i}]`));
  if (raw.ranks !== undefined) {
    const ranks = check.object(raw.ranks, 'ranks', null);
    config.ranks = Object.fromEntries(Object.entries(ranks).map(([name, rank]) => [name, check.number(rank, `ranks.${name}`)]));
  }
  if (raw.ignore !== undefined) config.ignore = check.strings(raw.ignore, 'ignore');
  if (raw.rules !== undefined) {
    const rules = check.object(raw.rules, 'rules', null);
    const out: Partial<Record<RuleId, Severity | 'off'>> = {};
    for (const [id, level] of Object.entries(rules)) {
      if (!(RULE_IDS as readonly string[]).includes(id)) check.fail(`rules.${id}`, `unknown rule id; expected one of ${RULE_IDS.join(', ')}`);
      if (typeof level !== 'string' || !RULE_LEVELS.includes(level as Severity | 'off')) check.fail(`rules.${id}`, `expected one of ${RULE_LEVELS.join(', ')}, got ${describe(level)}`);
      out[id as RuleId] = level as Severity | 'off';
    }
    config.rules = out;
  }
  if (raw.bigJsonBytes !== undefined) config.bigJsonBytes = check.number(raw.bigJsonBytes, 'bigJsonBytes', { integer: true, min: 1 });
  return config;
}
