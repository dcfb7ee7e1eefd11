/** What a potential deadlock (a cycle in the learned order graph) does: throw `LockOrderError`, or warn and go on. */
export type PotentialDeadlockAction = 'throw' | 'warn';

/**
 * When acquisition stacks are captured. Capturing a stack costs about 1 µs, several times an
 * uncontended acquisition, so by default (`'contended'`) only the slow paths pay for it: a request
 * that has to queue while its flow holds locks, an order edge seen for the first time, and every
 * error. Once a report has to name a holder whose site was not recorded, the sites of that lock
 * class are recorded from then on, so the next report names them. `'always'` records the site of
 * every acquisition from the start.
 */
export type StackPolicy = 'contended' | 'always';

export interface DeadboltConfig {
  /** Checked mode: per-flow held sets, ranks, the learned order graph and the wait-for graph. */
  readonly checks: boolean;
  readonly onPotentialDeadlock: PotentialDeadlockAction;
  /** Report a lock held longer than this many ms (0 turns the report off). */
  readonly holdWarnMs: number;
  /** Report an event loop blocked longer than this many ms while locks were held (0 turns it off). */
  readonly loopBlockWarnMs: number;
  /** Timeout applied to every acquisition that does not pass its own (Infinity: wait forever). */
  readonly defaultTimeout: number;
  readonly stacks: StackPolicy;
  /** Also print diagnostics as process warnings (they always go to diagnostics_channel). */
  readonly warnings: boolean;
}

export type DeadboltOptions = Partial<DeadboltConfig>;

function checksFromEnv(env: NodeJS.ProcessEnv): boolean {
  const raw = env.DEADBOLT_CHECKS;
  if (raw === undefined || raw === '') return env.NODE_ENV !== 'production';
  const value = raw.trim().toLowerCase();
  if (['on', '1', 'true', 'yes'].includes(value)) return true;
  if (['off', '0', 'false', 'no'].includes(value)) return false;
  throw new TypeError(`DEADBOLT_CHECKS must be "on" or "off", got ${JSON.stringify(raw)}`);
}

function stacksFromEnv(env: NodeJS.ProcessEnv): StackPolicy {
  const raw = env.DEADBOLT_STACKS;
  if (raw === undefined || raw === '') return 'contended';
  if (raw === 'always' || raw === 'contended') return raw;
  throw new TypeError(`DEADBOLT_STACKS must be "contended" or "always", got ${JSON.stringify(raw)}`);
}

export function initialConfig(env: NodeJS.ProcessEnv = process.env): DeadboltConfig {
  return Object.freeze({
    checks: checksFromEnv(env),
    onPotentialDeadlock: 'throw',
    holdWarnMs: 10_000,
    loopBlockWarnMs: 200,
    defaultTimeout: Infinity,
    stacks: stacksFromEnv(env),
    warnings: true,
  });
}

function nonNegative(name: string, value: unknown, allowInfinity: boolean): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new RangeError(`configure(): ${name} must be a non-negative ${allowInfinity ? 'number or Infinity' : 'finite number'}, got ${String(value)}`);
  }
  return value;
}

const KNOWN_KEYS = new Set(['checks', 'onPotentialDeadlock', 'holdWarnMs', 'loopBlockWarnMs', 'defaultTimeout', 'stacks', 'warnings']);

/** Validates options against the current config and returns the merged config; throws on bad input. */
export function mergeConfig(current: DeadboltConfig, options: DeadboltOptions): DeadboltConfig {
  if (options === null || typeof options !== 'object') throw new TypeError('configure() takes an options object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw new TypeError(`configure(): unknown option ${JSON.stringify(key)}`);
  }
  const next = { ...current };
  if (options.checks !== undefined) {
    if (typeof options.checks !== 'boolean') throw new TypeError(`configure(): checks must be a boolean, got ${String(options.checks)}`);
    next.checks = options.checks;
  }
  if (options.onPotentialDeadlock !== undefined) {
    if (options.onPotentialDeadlock !== 'throw' && options.onPotentialDeadlock !== 'warn') {
      throw new TypeError(`configure(): onPotentialDeadlock must be 'throw' or 'warn', got ${String(options.onPotentialDeadlock)}`);
    }
    next.onPotentialDeadlock = options.onPotentialDeadlock;
  }
  if (options.holdWarnMs !== undefined) next.holdWarnMs = nonNegative('holdWarnMs', options.holdWarnMs, false);
  if (options.loopBlockWarnMs !== undefined) next.loopBlockWarnMs = nonNegative('loopBlockWarnMs', options.loopBlockWarnMs, false);
  if (options.defaultTimeout !== undefined) next.defaultTimeout = nonNegative('defaultTimeout', options.defaultTimeout, true);
  if (options.stacks !== undefined) {
    if (options.stacks !== 'contended' && options.stacks !== 'always') {
      throw new TypeError(`configure(): stacks must be 'contended' or 'always', got ${String(options.stacks)}`);
    }
    next.stacks = options.stacks;
  }
  if (options.warnings !== undefined) {
    if (typeof options.warnings !== 'boolean') throw new TypeError(`configure(): warnings must be a boolean, got ${String(options.warnings)}`);
    next.warnings = options.warnings;
  }
  return Object.freeze(next);
}
