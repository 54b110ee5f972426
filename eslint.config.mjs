// One flat config for every workspace: typescript-eslint's recommended rules, plus the
// layout rule that packages are imported by name and public entry only.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.cache/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@tocsin/*/src', '@tocsin/*/src/**', '@tocsin/*/dist', '@tocsin/*/dist/**'], message: 'Import a package by its name (public entry) only.' },
            { group: ['../../packages/**', '../../../packages/**', '../../apps/**'], message: 'Import a workspace by its package name.' },
          ],
        },
      ],
    },
  },
);
