import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts', fs: 'src/fs/index.ts' },
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
    // Import the built library instead of bundling a second copy, so that stack traces tell
    // library frames (dist/index.js) from the demo's own.
    external: [/^\.\.\/index\.js$/],
    banner: { js: '#!/usr/bin/env node' },
  },
]);
