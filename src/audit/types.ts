/*
 * The contract between the audit's analysis core (scanner, lock model, rules) and its consumers
 * (reporters, the CLI, the ESLint plugin). Everything here is plain data, so that a result can be
 * serialised as JSON and compared across runs.
 */

/** How bad a finding is; `--fail-on <severity>` exits non-zero at or above it. */
export type Severity = 'error' | 'warning' | 'note';

/** Every rule the audit knows. Ids are stable: they appear in SARIF, configs and ESLint. */
export const RULE_IDS = [
  'lock-order-inversion',
  'reentrant-acquire',
  'unreleased-lock',
  'callback-under-lock',
  'blocking-under-lock',
  'unawaited-lock-promise',
  'check-then-acquire',
  'multi-lock-unordered',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/** A place in a source file. Lines and columns are 1-based; `endLine`/`endColumn` are optional. */
export interface SourceLocation {
  /** Path relative to the audit's root, with forward slashes. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine?: number;
  readonly endColumn?: number;
}

/** A location with a message saying what happens there (a step of a path, a related site). */
export interface LabelledLocation extends SourceLocation {
  readonly message: string;
}

/** What a lock is, as far as the audit can tell. */
export type LockKind =
  | 'deadbolt'
  | 'async-mutex'
  | 'async-lock'
  | 'await-lock'
  | 'esfx'
  | 'proper-lockfile'
  | 'promise-chain'
  | 'flag'
  | 'wrapper'
  | 'custom';

/** One row of the inventory: one lock (a field, variable or module binding that is a lock). */
export interface LockInventoryRow {
  /** Stable id, e.g. `src/store.ts#Store.mutex`. */
  readonly id: string;
  /** Human name: `Store.mutex`, `cacheLock`, `withLock (wrapper)`. */
  readonly name: string;
  /** Where the lock is declared or created. */
  readonly location: SourceLocation;
  readonly kind: LockKind;
  /** The library type, e.g. `Mutex`, `Semaphore`, `AsyncLock`, `lockfile.lock`. */
  readonly type: string;
  /** True when it can be held more than once by one path without deadlock (none of the npm ones are). */
  readonly reentrant: boolean;
  /** Every site that acquires it (directly, or by calling a wrapper of it). */
  readonly acquisitions: readonly SourceLocation[];
  /** True if some acquisition site keeps it held across an `await`. */
  readonly heldAcrossAwait: boolean;
  /** True if heavy synchronous work (the blocking-under-lock list) runs while it is held. */
  readonly heavySyncUnderLock: boolean;
  /** Declared rank from the config, if any. */
  readonly rank?: number;
}

/** One finding of one rule. */
export interface Finding {
  readonly ruleId: RuleId;
  readonly severity: Severity;
  /** One sentence: what is wrong, naming the lock(s). */
  readonly message: string;
  /** Why it matters (a paragraph a reader new to the rule can follow). */
  readonly explanation: string;
  /** What to change. */
  readonly fix: string;
  /** The primary location (where a reporter or ESLint puts the squiggle). */
  readonly location: SourceLocation;
  /** Other places involved: the first acquisition, the release that is skipped, the other path's sites. */
  readonly related: readonly LabelledLocation[];
  /**
   * Step-by-step paths (SARIF codeFlows): for lock-order-inversion, two paths (A then B, and B
   * then A), each through the calls between functions; for reentrant-acquire, the path from the
   * first acquisition to the second.
   */
  readonly paths: readonly (readonly LabelledLocation[])[];
  /** Ids of the inventory locks involved. */
  readonly locks: readonly string[];
  /**
   * A fingerprint that survives edits elsewhere in the file: built from rule id, file, the lock
   * ids and the enclosing function names, never from line numbers.
   */
  readonly fingerprint: string;
}

/** A file that could not be read or parsed; it is reported and skipped, never fatal. */
export interface SkippedFile {
  readonly file: string;
  readonly reason: string;
}

export interface AuditResult {
  /** The root the paths are relative to (absolute). */
  readonly root: string;
  readonly filesScanned: number;
  readonly skipped: readonly SkippedFile[];
  readonly inventory: readonly LockInventoryRow[];
  readonly findings: readonly Finding[];
  readonly durationMs: number;
}

/** A user-declared lock type (the typescript-eslint TypeOrValueSpecifier shape). */
export interface LockTypeSpecifier {
  readonly from: 'package' | 'file';
  /** The exported class or factory name, e.g. `Mutex`. */
  readonly name: string;
  /** For `from: 'package'`: the package name. For `from: 'file'`: a path relative to the config. */
  readonly package?: string;
  readonly path?: string;
  /** Method names that acquire and return a release function or guard; default `acquire`, `lock`. */
  readonly acquire?: readonly string[];
  /** Method names that run a callback under the lock; default `runExclusive`, `run`. */
  readonly run?: readonly string[];
  /** Method names that release; default `release`, `unlock`. */
  readonly release?: readonly string[];
  readonly reentrant?: boolean;
}

/** A user-declared wrapper: a function or method that runs its callback argument under a lock. */
export interface WrapperSpecifier {
  /** `withLock` or `Store.transaction` */
  readonly name: string;
  /** Which argument is the callback (0-based); default: the last function argument. */
  readonly callbackArg?: number;
}

/** deadbolt.config.{json,ts,js} or the `deadbolt` key of package.json. */
export interface AuditConfig {
  /** Extra lock types. */
  readonly locks?: readonly LockTypeSpecifier[];
  readonly wrappers?: readonly WrapperSpecifier[];
  /** Lock id or name -> rank; a path that takes a higher rank then a lower one is an inversion without needing the other path. */
  readonly ranks?: Readonly<Record<string, number>>;
  /** Glob patterns (gitignore syntax) of files not to audit. */
  readonly ignore?: readonly string[];
  /** Per-rule overrides: 'off' or a severity. */
  readonly rules?: Readonly<Partial<Record<RuleId, Severity | 'off'>>>;
  /** Bytes above which JSON.stringify/parse input counts as "big" when its size is visible; default 1 MiB. */
  readonly bigJsonBytes?: number;
}

/** What the analysis core offers the CLI and the ESLint plugin. */
export interface AuditOptions {
  /** Files and directories; default the current directory. Directories respect .gitignore. */
  readonly paths?: readonly string[];
  /** The root that locations are made relative to; default the current directory. */
  readonly root?: string;
  readonly config?: AuditConfig;
  /** Called as files are parsed (the TTY progress indicator). */
  readonly onProgress?: (done: number, total: number) => void;
}
