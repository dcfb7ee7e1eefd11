/**
 * The audit benchmark's corpus: the TypeScript sources (.ts/.mts/.cts, never .d.ts) that some
 * development dependencies ship, copied into a temporary directory so that `deadbolt audit` and
 * ESLint read exactly the same files (and no .gitignore, node_modules rule or config of this
 * repository gets in the way). Also used by the never-crash corpus test.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Packages whose shipped .ts sources make the corpus (devDependencies; zod comes with the project). */
export const CORPUS_PACKAGES = ['viem', 'ox', 'effect', 'rxjs', 'zod'] as const;

export interface CorpusPackage {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
}

export interface Corpus {
  /** The directory that holds the copies, one subdirectory per package. */
  readonly dir: string;
  /** Paths of the copies, relative to `dir`, sorted. */
  readonly files: readonly string[];
  readonly bytes: number;
  readonly packages: readonly (CorpusPackage & { readonly files: number })[];
  /** Packages that are not installed. */
  readonly missing: readonly string[];
  /** How many files the whole corpus has (more than `files` when a limit took a sample). */
  readonly available: number;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The installed directory of a package, found along node's lookup paths (NODE_PATH included). */
export function findPackage(name: string): CorpusPackage | undefined {
  const require = createRequire(join(root, 'package.json'));
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    if (existsSync(join(dir, 'package.json'))) {
      const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
      return { name, version, dir };
    }
  }
  return undefined;
}

/** Every file under `dir` (nested node_modules included) whose name `accept`s, sorted. */
export function walk(dir: string, accept: (name: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile() && accept(entry.name)) out.push(path);
    }
  };
  visit(dir);
  return out.sort();
}

export const isTypeScriptSource = (name: string): boolean => /\.[mc]?ts$/.test(name) && !/\.d\.[mc]?ts$/.test(name);

/**
 * Copies the corpus into a fresh temporary directory. With `limit`, takes an even spread of that
 * many files over the whole corpus (a quick run still sees every package).
 *
 * @example
 * const corpus = buildCorpus();
 * console.log(`${corpus.files.length} files in ${corpus.dir}`);
 */
export function buildCorpus(options: { limit?: number; packages?: readonly string[] } = {}): Corpus {
  const dir = mkdtempSync(join(os.tmpdir(), 'deadbolt-audit-corpus-'));
  const missing: string[] = [];
  const found: { pkg: CorpusPackage; sources: string[] }[] = [];
  for (const name of options.packages ?? CORPUS_PACKAGES) {
    const pkg = findPackage(name);
    if (pkg === undefined) missing.push(name);
    else found.push({ pkg, sources: walk(pkg.dir, isTypeScriptSource) });
  }
  let all = found.flatMap(({ pkg, sources }) => sources.map((source) => ({ pkg, source })));
  const available = all.length;
  if (options.limit !== undefined && options.limit < all.length) {
    const step = all.length / options.limit;
    all = Array.from({ length: options.limit }, (_, i) => all[Math.floor(i * step)]!);
  }
  const files: string[] = [];
  let bytes = 0;
  const counts = new Map<string, number>();
  for (const { pkg, source } of all) {
    // Nested node_modules are renamed: both tools skip directories of that name by default.
    const target = join(pkg.name.replace('/', '__'), relative(pkg.dir, source).replace(/(^|[\\/])node_modules(?=[\\/])/g, '$1_node_modules'));
    mkdirSync(join(dir, dirname(target)), { recursive: true });
    copyFileSync(source, join(dir, target));
    bytes += statSync(source).size;
    files.push(target.split('\\').join('/'));
    counts.set(pkg.name, (counts.get(pkg.name) ?? 0) + 1);
  }
  return { dir, files: files.sort(), bytes, packages: found.map(({ pkg }) => ({ ...pkg, files: counts.get(pkg.name) ?? 0 })), missing, available };
}
