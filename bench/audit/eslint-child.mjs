// The ESLint baseline of the audit benchmark, run as its own process (plain node, no tsx):
//   node bench/audit/eslint-child.mjs <dir> <rule>
// ESLint 9 with typescript-eslint's parser (syntax only: no project, no type information) and a
// single core rule, over every .ts/.mts/.cts file under <dir>, one thread (ESLint's default).
// Prints one JSON line: files linted, parse errors, messages, and the in-process time.
const started = performance.now();
const [dir, rule] = process.argv.slice(2);
const { ESLint } = await import('eslint');
const tseslint = (await import('typescript-eslint')).default;

const eslint = new ESLint({
  cwd: dir,
  overrideConfigFile: true,
  cache: false,
  overrideConfig: [
    {
      files: ['**/*.ts', '**/*.mts', '**/*.cts'],
      languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
      linterOptions: { reportUnusedDisableDirectives: 'off' },
      rules: { [rule]: 'error' },
    },
  ],
});
const results = await eslint.lintFiles(['.']);
const fatal = results.filter((r) => r.messages.some((m) => m.fatal)).length;
const messages = results.reduce((n, r) => n + r.messages.length, 0);
console.log(JSON.stringify({ files: results.length, fatal, messages, ms: performance.now() - started }));
