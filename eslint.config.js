// Lint: typescript-eslint's recommended rules plus eslint-plugin-security's static checks.
import tseslint from 'typescript-eslint';
import security from 'eslint-plugin-security';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.tsbuild/**',
      '**/test-results/**',
      'docs/api/**',
    ],
  },
  ...tseslint.configs.recommended,
  security.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Indexing typed arrays by computed numbers is the bread and butter of crypto code;
      // this rule cannot tell those from prototype-pollution risks on plain objects.
      'security/detect-object-injection': 'off',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // Tooling and tests read paths they were given; the relay's own code keeps the rule.
    files: ['**/bench/**', 'scripts/**', '**/test/**', 'test/**', 'apps/cli/**'],
    rules: { 'no-console': 'off', 'security/detect-non-literal-fs-filename': 'off' },
  },
);
