import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.demo/', 'coverage/', '**/*.html', 'nodes/**/*.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.mjs', 'scripts/*.mjs', '.ci/*.mjs', 'test/fixtures/certify/*.mjs'], maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16 }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // lib/ is pure logic, tested without a runtime and used by the CLI, which has no Node-RED: the runtime stays in nodes/.
    files: ['lib/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'node-red', message: 'lib/ never imports Node-RED; put the adapter in nodes/.' },
            { name: 'node-red-node-test-helper', message: 'lib/ never imports Node-RED; its tests belong in test/nodes.' },
          ],
          patterns: [{ group: ['node-red/*', '@node-red/*', 'node-red-node-test-helper/*'], message: 'lib/ never imports Node-RED; put the adapter in nodes/.' }],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly' } },
  },
  {
    // Editor scripts Node-RED serves to the browser as they are: plain scripts, jQuery's $ and the editor's window.
    files: ['resources/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { sourceType: 'script', parserOptions: { projectService: false }, globals: { $: 'readonly', window: 'readonly' } },
  },
);
