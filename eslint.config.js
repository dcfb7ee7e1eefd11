import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
// The project's own lock audit as lint rules (deadbolt/eslint-plugin, from the build that
// `npm install` makes through `prepare`).
import deadbolt from './dist/eslint-plugin.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/', 'test/audit/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  { ...deadbolt.configs.recommended, files: ['src/**/*.ts'] },
);
