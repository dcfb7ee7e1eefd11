/**
 * deadbolt/eslint-plugin: the lock audit's rules for ESLint (flat config). Every rule of
 * `deadbolt audit` is an ESLint rule of the same id, and `configs.recommended` turns them all on
 * at their default severities (error stays error; warning and note become warn).
 *
 * The rules share the audit's analysis core instead of re-implementing it on ESTree: the first
 * deadbolt rule that runs on a file analyses it with `analyzeSources` and caches the result by
 * file name and text, so one lint run analyses each file once and every rule reads that
 * analysis, reporting the findings of its id whose primary location is in the linted file.
 *
 * Scope of one analysis: the linted file together with the files it imports by relative path
 * (one level: `import ... from './store.js'` resolves to store.ts, store.tsx, store.js, ...), so
 * that the cross-file rules (lock-order-inversion, reentrant-acquire through calls) see the
 * callees the file uses directly. That is less than `deadbolt audit`, which analyses the whole
 * program: run the CLI in CI for the complete picture, the plugin for quick feedback in an editor.
 * Editors keep the cache for a long time; a change to an imported file alone is seen when the
 * linted file changes or the ESLint process restarts.
 *
 * Configuration: `settings.deadbolt` (an AuditConfig object; import a .ts/.js config there),
 * else deadbolt.config.json or the `deadbolt` key of package.json, looked up from the linted
 * file's directory as the CLI does. ESLint rules are synchronous, so a .js/.ts config file is
 * only used through `settings.deadbolt`.
 *
 * @example
 * // eslint.config.js
 * import deadbolt from 'deadbolt/eslint-plugin';
 * export default [
 *   deadbolt.configs.recommended,
 *   { settings: { deadbolt: { ranks: { coffer: 10, buffers: 20 } } } },
 * ];
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import type { ESLint, Linter, Rule } from 'eslint';
import { loadConfigSync, validateConfig } from './config.js';
import { relativePath, SOURCE_EXTENSIONS } from './files.js';
import { analyzeSources } from './index.js';
import { RULE_DOCS, ruleDoc } from './reporters/rule-docs.js';
import { RULE_IDS, type AuditConfig, type AuditResult, type Finding, type RuleId } from './types.js';

/** How many analyses are kept: the rules of one file run together, so a few are plenty. */
const CACHE_SIZE = 32;
const cache = new Map<string, { readonly text: string; readonly config: AuditConfig; readonly result: AuditResult }>();
const configByDir = new Map<string, AuditConfig>();
let analyses = 0;

/** @internal How many analyses the plugin has run in this process (for tests: one per linted file text). */
export function analysesRun(): number {
  return analyses;
}

/** Validated `settings.deadbolt`, by the settings object (ESLint passes the same object to every rule). */
const configBySettings = new WeakMap<object, AuditConfig>();

/** What a `.js` specifier may stand for in TypeScript source (NodeNext style imports). */
const SOURCE_FOR: Record<string, readonly string[]> = { '.js': ['.ts', '.tsx', '.js', '.jsx'], '.mjs': ['.mts', '.mjs'], '.cjs': ['.cts', '.cjs'], '.jsx': ['.tsx', '.jsx'] };

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The file a relative import specifier names, or undefined. */
function resolveRelativeImport(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  const ext = SOURCE_EXTENSIONS.find((e) => base.endsWith(e));
  const candidates: string[] = [];
  if (ext !== undefined) candidates.push(...(SOURCE_FOR[ext] ?? [ext]).map((e) => base.slice(0, -ext.length) + e));
  else candidates.push(...SOURCE_EXTENSIONS.map((e) => base + e), ...SOURCE_EXTENSIONS.map((e) => `${base}${sep}index${e}`));
  return candidates.find((candidate) => !/\.d\.[mc]?ts$/.test(candidate) && isFile(candidate));
}

interface ImportLike {
  readonly type: string;
  readonly source?: { readonly value?: unknown } | null;
}

function relativeImports(context: Rule.RuleContext): string[] {
  const files = new Set<string>();
  for (const node of context.sourceCode.ast.body as readonly ImportLike[]) {
    if (node.type !== 'ImportDeclaration' && node.type !== 'ExportNamedDeclaration' && node.type !== 'ExportAllDeclaration') continue;
    const specifier = node.source?.value;
    if (typeof specifier !== 'string' || !(specifier.startsWith('./') || specifier.startsWith('../'))) continue;
    const file = resolveRelativeImport(context.filename, specifier);
    if (file !== undefined && file !== context.filename) files.add(file);
  }
  return [...files];
}

function configFor(context: Rule.RuleContext): AuditConfig {
  const settings = (context.settings as Record<string, unknown> | undefined)?.deadbolt;
  if (settings !== undefined) {
    if (typeof settings !== 'object' || settings === null) return validateConfig(settings, 'ESLint settings.deadbolt');
    let validated = configBySettings.get(settings);
    if (validated === undefined) {
      validated = validateConfig(settings, 'ESLint settings.deadbolt');
      configBySettings.set(settings, validated);
    }
    return validated;
  }
  const dir = isAbsolute(context.filename) ? dirname(context.filename) : context.cwd;
  let config = configByDir.get(dir);
  if (config === undefined) {
    config = loadConfigSync({ from: dir }).config;
    configByDir.set(dir, config);
  }
  return config;
}

/** Forward-slash path of `file` relative to `root` (the Finding.location.file convention). */
function locationPath(root: string, file: string): string {
  return isAbsolute(file) ? relativePath(root, file) : file.split(sep).join('/');
}

/** The analysis of the linted file (with its relative imports), computed once per file text. */
function analysisFor(context: Rule.RuleContext): AuditResult {
  const filename = context.filename;
  const text = context.sourceCode.text;
  const config = configFor(context);
  const cached = cache.get(filename);
  if (cached !== undefined && cached.text === text && cached.config === config) return cached.result;
  const root = context.cwd;
  const sources = [{ file: locationPath(root, filename), text }];
  if (isAbsolute(filename) && existsSync(filename)) {
    for (const file of relativeImports(context)) {
      try {
        sources.push({ file: locationPath(root, file), text: readFileSync(file, 'utf8') });
      } catch {
        // An import that cannot be read is left out; its own lint run reports what it can.
      }
    }
  }
  const result = analyzeSources(sources, { root, config });
  analyses++;
  cache.delete(filename);
  cache.set(filename, { text, config, result });
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return result;
}

function report(context: Rule.RuleContext, finding: Finding): void {
  const { line, column, endLine, endColumn } = finding.location;
  const start = { line, column: Math.max(0, column - 1) };
  const loc = endLine !== undefined && endColumn !== undefined ? { start, end: { line: endLine, column: Math.max(0, endColumn - 1) } } : start;
  context.report({ loc, messageId: 'finding', data: { message: finding.message, fix: finding.fix } });
}

function makeRule(id: RuleId): Rule.RuleModule {
  const doc = ruleDoc(id);
  return {
    meta: {
      type: 'problem',
      docs: { description: `${doc.summary}.`, recommended: true },
      messages: { finding: '{{message}} Fix: {{fix}}' },
      schema: [],
    },
    create(context) {
      return {
        Program() {
          const file = locationPath(context.cwd, context.filename);
          for (const finding of analysisFor(context).findings) {
            if (finding.ruleId === id && finding.location.file === file) report(context, finding);
          }
        },
      };
    },
  };
}

const rules: Record<RuleId, Rule.RuleModule> = Object.fromEntries(RULE_IDS.map((id) => [id, makeRule(id)])) as Record<RuleId, Rule.RuleModule>;

const recommendedRules: Linter.RulesRecord = Object.fromEntries(RULE_DOCS.map((doc) => [`deadbolt/${doc.id}`, doc.defaultSeverity === 'error' ? 'error' : 'warn']));

/** The plugin object: `rules` by audit rule id, and `configs.recommended` (a flat config object). */
const plugin = {
  meta: { name: 'deadbolt' },
  rules,
  configs: {} as { recommended: Linter.Config },
} satisfies ESLint.Plugin;

plugin.configs.recommended = {
  name: 'deadbolt/recommended',
  plugins: { deadbolt: plugin },
  rules: recommendedRules,
};

export default plugin;
