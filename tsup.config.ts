import { resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

/**
 * The CLI imports the built library instead of bundling a second copy, so that stack traces tell
 * library frames (dist/*.js) from the demo's own. Any import of a library entry's index (also
 * from examples/ that the demo runs) becomes an import of the built entry beside dist/cli/.
 */
const useBuiltLibrary: Plugin = {
  name: 'use-built-library',
  setup(build) {
    const entries = new Map([
      [resolve('src/index.js'), '../index.js'],
      [resolve('src/fs/index.js'), '../fs.js'],
      [resolve('src/secure/index.js'), '../secure.js'],
      [resolve('src/threads/index.js'), '../threads.js'],
      [resolve('src/audit/index.js'), '../audit.js'],
    ]);
    build.onResolve({ filter: /index\.js$/ }, (args) => {
      const target = entries.get(resolve(args.resolveDir, args.path));
      return target === undefined ? undefined : { path: target, external: true };
    });
  },
};

export default defineConfig([
  {
    entry: { index: 'src/index.ts', fs: 'src/fs/index.ts', secure: 'src/secure/index.ts', threads: 'src/threads/index.ts', audit: 'src/audit/index.ts', 'eslint-plugin': 'src/audit/eslint-plugin.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    clean: true,
    // One copy of the engine and primitives, shared by every entry (ESM chunks; CJS too).
    splitting: true,
  },
  {
    entry: { 'cli/main': 'src/cli/main.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    sourcemap: true,
    splitting: false,
    esbuildPlugins: [useBuiltLibrary],
    banner: { js: '#!/usr/bin/env node' },
  },
]);
