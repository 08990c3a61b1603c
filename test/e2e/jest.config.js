// End-to-end suite: a REAL n8n (scripts/n8n/install.js) with this package loaded.
// Run after `npm run build`:  npx jest -c test/e2e/jest.config.js --runInBand
// E2E_N8N_VERSION=2.8.4 (default, Node 20) or 2.41.1 (Node 24 from the cache).
const path = require('path');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: path.resolve(__dirname, '..', '..'),
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.e2e.ts'],
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/test/e2e/tsconfig.json' }],
  },
  globalSetup: '<rootDir>/test/e2e/global-setup.js',
  // n8n cold starts take 10-40 s; queue mode starts three processes.
  testTimeout: 300_000,
  maxWorkers: 1,
  // Never leave n8n processes behind: every file stops what it started in afterAll.
  forceExit: false,
  verbose: true,
};
