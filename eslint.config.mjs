// ESLint (flat config): the recommended JavaScript rules and typescript-eslint's recommended rules,
// with Node globals (browser globals for the web page's script). Formatting is Prettier's job.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'build/', 'build-*/', 'dist/', '.libtorch/', '.venv-cuda/', 'gpu-bundle/', 'demo/', 'checkpoints/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring a key away, a required callback parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['lib/service/public/**/*.js'], languageOptions: { sourceType: 'script', globals: { ...globals.browser } } },
);
