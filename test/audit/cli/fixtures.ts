/*
 * Source trees for the CLI tests, written to a temporary directory at test time (as strings, so
 * that the project's own typecheck, lint and audit never read them: one is deliberately broken,
 * others deliberately have findings).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type Tree = Record<string, string>;

/** A lock taken and released correctly, held across an await: an inventory row, no finding. */
export const CLEAN: Tree = {
  'package.json': '{ "name": "clean", "type": "module" }',
  'src/cache.ts': `import { Mutex } from 'async-mutex';

export class Cache {
  private readonly mutex = new Mutex();
  private readonly entries = new Map<string, string>();

  async refresh(key: string, load: () => Promise<string>): Promise<string> {
    const release = await this.mutex.acquire();
    try {
      const value = await load();
      this.entries.set(key, value);
      return value;
    } finally {
      release();
    }
  }
}
`,
};

/** AB/BA between two methods (an error) and a synchronous read under a lock (a warning). */
export const FINDINGS: Tree = {
  'package.json': '{ "name": "findings", "type": "module" }',
  'src/accounts.ts': `import { Mutex } from 'async-mutex';

export class Accounts {
  private readonly ledger = new Mutex();
  private readonly audit = new Mutex();

  async transfer(): Promise<void> {
    await this.ledger.runExclusive(async () => {
      await this.audit.runExclusive(async () => {
        await Promise.resolve();
      });
    });
  }

  async report(): Promise<void> {
    await this.audit.runExclusive(async () => {
      await this.ledger.runExclusive(async () => {
        await Promise.resolve();
      });
    });
  }
}
`,
  'src/config.ts': WARNING_SOURCE(),
};

function WARNING_SOURCE(): string {
  return `import { readFileSync } from 'node:fs';
import { Mutex } from 'async-mutex';

const lock = new Mutex();
let cached = '';

export async function reload(path: string): Promise<string> {
  const release = await lock.acquire();
  try {
    cached = readFileSync(path, 'utf8');
    return cached;
  } finally {
    release();
  }
}
`;
}

/** Only a warning: blocking work under a lock. */
export const WARNINGS: Tree = {
  'package.json': '{ "name": "warnings", "type": "module" }',
  'src/config.ts': WARNING_SOURCE(),
};

/** A file that does not parse, next to a good one. */
export const BROKEN: Tree = {
  'package.json': '{ "name": "broken", "type": "module" }',
  'src/good.ts': 'export const good = 1;\n',
  'src/broken.ts': 'export function broken( {\n  const x = ;\n',
};

/** Writes `tree` to a fresh temporary directory and returns it. */
export function writeTree(tree: Tree, base = tmpdir()): string {
  const dir = mkdtempSync(join(base, 'deadbolt-audit-cli-'));
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}
