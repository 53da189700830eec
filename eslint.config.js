// npm run lint: ESLint's and typescript-eslint's recommended rules over the TypeScript sources.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'sdk/dist/', 'node_modules/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks what is left out on purpose (a destructured field dropped, an argument a signature requires).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // ZeroMQ's I/O threads take their scheduling policy from core/bus/zmq.ts, set before any socket starts them.
    ignores: ['core/bus/zmq.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'zeromq', message: "Import { zmq } from core/bus/zmq.ts: it sets the I/O threads' policy before any socket starts them." }] }],
    },
  },
);
