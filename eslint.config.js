// ESLint flat config: type-checked rules that matter for an async server, and the layer arrows
// (http -> engine -> backend; only src/backend/llama may load the native addon).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layerRule = (patterns) => ({
  'no-restricted-imports': ['error', { patterns }],
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'native/', '.cache/', 'coverage/', 'bench/peer/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: layerRule([
      { group: ['**/http/**', 'fastify', 'fastify/*'], message: 'engine must not depend on http' },
      { group: ['**/backend/llama/**'], message: 'engine sees only the backend interface' },
    ]),
  },
  {
    files: ['src/http/**/*.ts'],
    rules: layerRule([
      { group: ['**/backend/llama/**'], message: 'http sees the engine and the backend interface' },
      { group: ['**/cli/**'], message: 'http must not depend on the command' },
    ]),
  },
  {
    files: ['src/backend/**/*.ts'],
    ignores: ['src/backend/llama/**'],
    rules: layerRule([
      { group: ['**/http/**', '**/engine/**'], message: 'backend must not depend on upper layers' },
      { group: ['**/llama/**'], message: 'only the llama backend and main know the addon' },
    ]),
  },
  {
    files: ['src/backend/llama/**/*.ts'],
    rules: layerRule([
      { group: ['**/http/**', '**/engine/**'], message: 'backend must not depend on upper layers' },
    ]),
  },
  {
    files: ['src/benchmark/**/*.ts'],
    rules: layerRule([
      {
        group: ['**/http/**', '**/engine/**', '**/backend/**', '**/cli/**'],
        message: 'the benchmark client talks to servers over HTTP only',
      },
    ]),
  },
  {
    files: ['src/grammar/**/*.ts'],
    rules: layerRule([
      {
        group: ['**/http/**', '**/engine/**', '**/backend/**', '**/cli/**', '**/gguf/**'],
        message: 'grammar is a leaf (front ends and the token matcher over plain data)',
      },
    ]),
  },
  {
    files: ['src/gguf/**/*.ts'],
    rules: layerRule([
      { group: ['**/http/**', '**/engine/**', '**/backend/**'], message: 'gguf is a leaf' },
    ]),
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
