import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Import direction (docs/architecture.md): capabilities sit above the core modules
// (crypto/, db/, http/, config.ts, errors.ts, ids.ts, principal.ts) and below the
// wiring (app.ts, services.ts, background.ts, main.ts). Only a capability's
// *.routes.ts is HTTP edge and may import http/.
const CAPABILITIES = ['participants', 'datasets', 'agreements', 'reciprocity', 'jobs', 'ledger', 'statements'];
const CAPABILITY_DIRS = CAPABILITIES.map((c) => `src/${c}/**/*.ts`);
const CORE_FILES = ['src/crypto/**/*.ts', 'src/db/**/*.ts', 'src/http/**/*.ts', 'src/config.ts', 'src/errors.ts', 'src/ids.ts', 'src/principal.ts'];
const IMPORTS_A_CAPABILITY = {
  regex: `^\\.{1,2}/(\\.\\./)*(${CAPABILITIES.join('|')})/`,
  message: 'core modules (crypto/, db/, http/, config.ts, errors.ts, ids.ts, principal.ts) import no capability: let app.ts hand them what they need (see docs/architecture.md)',
};
const IMPORTS_HTTP = {
  regex: '^\\.{1,2}/(\\.\\./)*http/',
  message: 'only *.routes.ts (the HTTP edge) imports http/; Principal lives in src/principal.ts, isUuid in src/ids.ts (see docs/architecture.md)',
};
const IMPORTS_WIRING = {
  regex: '^\\.{1,2}/(\\.\\./)*(app|services|background|main)\\.js$',
  message: 'capabilities do not import the wiring (app.ts, services.ts, background.ts, main.ts): take what you need as a constructor argument (see docs/architecture.md)',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tds/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', fetch: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Boundary rules: each file group gets one no-restricted-imports (a later block would replace, not add to, an earlier one).
  { files: CAPABILITY_DIRS, ignores: ['src/**/*.routes.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [IMPORTS_HTTP, IMPORTS_WIRING] }] } },
  { files: ['src/**/*.routes.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [IMPORTS_WIRING] }] } },
  { files: CORE_FILES, rules: { 'no-restricted-imports': ['error', { patterns: [IMPORTS_A_CAPABILITY, IMPORTS_WIRING] }] } },
);
