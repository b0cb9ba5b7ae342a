// Lint: typescript-eslint's recommended rules plus eslint-plugin-security's static checks.
import tseslint from 'typescript-eslint';
import security from 'eslint-plugin-security';

/**
 * The layers of @parley/client, bottom first (packages/client/README.md draws them). A module
 * may import its own layer and the ones below, never one above: each layer's files get a
 * `no-restricted-imports` rule naming every layer above it.
 */
const CLIENT_LAYERS = [
  {
    name: 'foundations',
    files: [
      'errors.ts',
      'keys.ts',
      'model.ts',
      'events.ts',
      'crypto-stores.ts',
      'signal.ts',
      'provisioning.ts',
      'web-locks.ts',
      'util/**',
      'storage/**',
      'relay/**',
      'content/**',
    ],
    imports: [],
  },
  { name: 'context', files: ['context.ts'], imports: ['(^|/)context\\.ts$'] },
  { name: 'records', files: ['records/**'], imports: ['(^|/)records/'] },
  { name: 'disappearing', files: ['disappearing/**'], imports: ['(^|/)disappearing/'] },
  {
    name: 'sessions and usernames',
    files: ['sessions.ts', 'usernames.ts'],
    imports: ['(^|/)sessions\\.ts$', '(^|/)usernames\\.ts$'],
  },
  { name: 'account', files: ['account/**'], imports: ['(^|/)account/'] },
  { name: 'delivery', files: ['delivery/**'], imports: ['(^|/)delivery/'] },
  { name: 'identity', files: ['identity.ts'], imports: ['(^|/)identity\\.ts$'] },
  { name: 'sync', files: ['sync/**'], imports: ['(^|/)sync/'] },
  { name: 'groups', files: ['groups/**'], imports: ['(^|/)groups/'] },
  {
    name: 'messaging',
    files: ['messaging.ts', 'message-actions.ts', 'expire-timer.ts'],
    imports: ['(^|/)messaging\\.ts$', '(^|/)message-actions\\.ts$', '(^|/)expire-timer\\.ts$'],
  },
  { name: 'trust', files: ['trust/**'], imports: ['(^|/)trust/'] },
  { name: 'linking', files: ['linking.ts'], imports: ['(^|/)linking\\.ts$'] },
  { name: 'receive', files: ['receive/**'], imports: ['(^|/)receive/'] },
  { name: 'connection', files: ['connection.ts'], imports: ['(^|/)connection\\.ts$'] },
  {
    name: 'front',
    files: ['client.ts', 'index.ts'],
    imports: ['(^|/)client\\.ts$', '^\\.\\.?/index\\.ts$'],
  },
];

const clientLayering = CLIENT_LAYERS.map((layer, i) => ({
  files: layer.files.map((f) => `packages/client/src/${f}`),
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: CLIENT_LAYERS.slice(i + 1).flatMap((above) =>
          above.imports.map((regex) => ({
            regex,
            message: `${layer.name} sits below ${above.name} (packages/client/README.md): import downward only`,
          })),
        ),
      },
    ],
  },
}));

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
  ...clientLayering,
  {
    // Promises in the client core are awaited or handed to a background runner, never dropped;
    // its errors are typed (ClientError and subclasses, RelayHttpError), never a bare Error.
    files: ['packages/client/src/**/*.ts', 'apps/web/src/**/*.ts', 'apps/web/src/**/*.tsx'],
    ignores: ['**/gen/**'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['packages/client/src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ThrowStatement > NewExpression[callee.name='Error']",
          message: 'Throw a typed error (ClientError with a code, or a subclass): see errors.ts',
        },
      ],
    },
  },
  {
    // Tooling and tests read paths they were given; the relay's own code keeps the rule.
    files: ['**/bench/**', 'scripts/**', '**/test/**', 'test/**', 'apps/cli/**'],
    rules: { 'no-console': 'off', 'security/detect-non-literal-fs-filename': 'off' },
  },
);
