'use strict';
// Jest: TypeScript through ts-jest, transpile-only (tsconfig.json sets isolatedModules; `npm run typecheck`
// does the type checking). The harness in test/harness/ probes the kernel once, checks that the host
// network namespace is unchanged after the run, and prints/writes `N passed, N failed, N skipped`.

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/build/', '<rootDir>/prebuilds/'],
  testTimeout: 30000,
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  reporters: ['default', '<rootDir>/test/harness/summary-reporter.js'],
  collectCoverageFrom: ['lib/**/*.ts', '!lib/specs/**', '!lib/netlink/constants.ts'],
};
