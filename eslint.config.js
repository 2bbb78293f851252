// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node built-ins may not reach workflow code: the workflow sandbox has none, and replay must stay deterministic. */
const noNodeInWorkflows = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: ['node:*'], message: 'workflow code and the pure shared modules run in the workflow sandbox: no Node built-ins' },
        { group: ['fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net'], message: 'no Node built-ins in workflow code' },
        {
          group: ['**/activities/*', '!**/activities/types.js'],
          message: 'workflows import activity types only (import type …/activities/types.js)',
        },
      ],
    },
  ],
};

/**
 * Workflow modules are loaded once and shared by every run in a worker thread (preloadModules): a
 * module-level `let` or `var` would carry one job's state into the next, and a module-level global
 * RegExp keeps `lastIndex` in an object the SDK freezes.
 */
const noModuleStateInWorkflows = {
  'no-restricted-syntax': [
    'error',
    {
      selector: ":matches(Program, Program > ExportNamedDeclaration) > VariableDeclaration:matches([kind='let'], [kind='var'])",
      message: 'workflow modules are shared by every run: no module-level let/var (keep state in the run)',
    },
    {
      selector:
        ':matches(Program, Program > ExportNamedDeclaration) > VariableDeclaration > VariableDeclarator > Literal[regex.flags=/[gy]/]',
      message: 'workflow modules are shared and frozen: build a global or sticky RegExp inside the function that uses it',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', '.tmp/**', 'bench/results/**', 'test/snapshots/**', 'test/replay/histories/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  { files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts'], rules: { ...noNodeInWorkflows, ...noModuleStateInWorkflows } },
  {
    files: ['bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/test/**', '../test/*', '../../test/*'], message: 'bench/ stands on its own: no imports from test/' }] },
      ],
    },
  },
);
