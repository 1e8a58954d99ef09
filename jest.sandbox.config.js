// The compute sandbox and the data node end to end (npm run test:sandbox
// builds first: the node and its sandbox worker run from dist/). Needs
// bubblewrap and prlimit; .ci/run installs them.
export default {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/sandbox/**/*.sandbox.test.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 300000,
  maxWorkers: 1,
};
