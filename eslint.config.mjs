// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.temporal/', '.data/', 'test-artifacts/', 'templates/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, and activities
    // only as types (importing them by value would pull vendor clients into the bundle).
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must be deterministic: no Node built-ins.',
          })),
          patterns: [
            {
              // The activity contract lives beside the workflows (./contracts): no arrow from
              // the workflows may point up into the activities layer, not even for a type.
              regex: '(^|/)activities(/[^/]+)*$',
              message: 'Workflows name activities through ./contracts, never src/activities.',
            },
            {
              group: [
                '**/vendors/**',
                '**/api/**',
                '**/relay/**',
                '**/metrics/**',
                'axios',
                'klaviyo-api',
                'express',
                'pg',
                'better-sqlite3',
              ],
              message: 'Side effects belong in activities.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflow code cannot read the environment.' },
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
      ],
    },
  },
  {
    // The layers below the activities (vendor clients, the metrics store, the relay core) and the
    // command-line tools never reach up into the activities or into the HTTP layer.
    files: [
      'src/vendors/**/*.ts',
      'src/metrics/**/*.ts',
      'src/relay/**/*.ts',
      'src/cli/**/*.ts',
      'src/simulator/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)activities(/[^/]+)*$', message: 'Activities sit above this layer.' },
            { regex: '(^|/)api(/[^/]+)*$', message: 'src/api is HTTP only; import the core it serves.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
