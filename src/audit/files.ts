/*
 * Finding the files to audit: source extensions, .gitignore files at every level, the config's
 * ignore globs, and node_modules/.git skipped unless a given path points inside them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** The extensions the audit reads. */
export const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];
const ALWAYS_SKIPPED = new Set(['node_modules', '.git']);

/** True for a file the audit reads: a JS/TS source, never a declaration file. */
export function isAuditedFile(name: string): boolean {
  if (/\.d\.[cm]?ts$/.test(name) || /\.d\.[^.]+\.ts$/.test(name)) return false;
  return SOURCE_EXTENSIONS.some((ext) => name.endsWith(ext));
}

/** `a/b/c.ts` style path of `abs` relative to `root`. */
export function relativePath(root: string, abs: string): string {
  const rel = relative(root, abs);
  return sep === '/' ? rel : rel.split(sep).join('/');
}

interface IgnoreLayer {
  /** Directory the .gitignore lives in (absolute). */
  readonly dir: string;
  readonly rules: Ignore;
}

function readGitignore(dir: string): IgnoreLayer | null {
  let text: string;
  try {
    text = readFileSync(join(dir, '.gitignore'), 'utf8');
  } catch {
    return null;
  }
  return { dir, rules: ignore().add(text) };
}

function ignoredBy(layers: readonly IgnoreLayer[], abs: string, isDir: boolean): boolean {
  for (const layer of layers) {
    const rel = relativePath(layer.dir, abs);
    if (rel === '' || rel.startsWith('..')) continue;
    if (layer.rules.ignores(isDir ? `${rel}/` : rel)) return true;
  }
  return false;
}

/** The .gitignore layers between `root` and `start` (exclusive of start), outermost first. */
function ancestorLayers(root: string, start: string): IgnoreLayer[] {
  const rel = relative(root, start);
  if (rel.startsWith('..') || rel === '') return [];
  const dirs: string[] = [];
  for (let dir = dirname(start); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dir === root || dirname(dir) === dir) break;
  }
  return dirs.map(readGitignore).filter((layer): layer is IgnoreLayer => layer !== null);
}

/**
 * Lists the files to audit under `paths`, sorted, as absolute paths.
 *
 * @example
 * const files = discoverFiles(['src'], process.cwd(), ['**\/generated/**']);
 */
export function discoverFiles(paths: readonly string[], root: string, extraIgnores: readonly string[] = []): string[] {
  const configIgnore = extraIgnores.length > 0 ? ignore().add([...extraIgnores]) : null;
  const found = new Set<string>();
  const ignoredByConfig = (abs: string, isDir: boolean): boolean => {
    if (configIgnore === null) return false;
    const rel = relativePath(root, abs);
    if (rel === '' || rel.startsWith('..')) return false;
    return configIgnore.ignores(isDir ? `${rel}/` : rel);
  };

  const walk = (dir: string, layers: readonly IgnoreLayer[]): void => {
    const own = readGitignore(dir);
    const here = own !== null ? [...layers, own] : layers;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (ALWAYS_SKIPPED.has(entry.name)) continue;
        if (ignoredBy(here, abs, true) || ignoredByConfig(abs, true)) continue;
        walk(abs, here);
      } else if (entry.isFile() && isAuditedFile(entry.name)) {
        if (ignoredBy(here, abs, false) || ignoredByConfig(abs, false)) continue;
        found.add(abs);
      }
    }
  };

  for (const given of paths) {
    const abs = resolve(root, given);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch {
      // A missing path is reported by the caller as a skipped file.
      found.add(abs);
      continue;
    }
    if (!isDir) {
      // A file named explicitly is audited even if an ignore rule would skip it.
      if (isAuditedFile(abs)) found.add(abs);
      continue;
    }
    // Ancestor rules apply only if they do not ignore the directory the user pointed at.
    const layers = ancestorLayers(root, abs);
    walk(abs, ignoredBy(layers, abs, true) ? [] : layers);
  }
  return [...found].sort();
}
