/**
 * Unit and engine tests (jest). Kept out of package.json: n8n's community-node rules refuse
 * template placeholders such as <rootDir> in a published package.json.
 * The e2e suite has its own config: test/e2e/jest.config.js.
 * @type {import('jest').Config}
 */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
  testTimeout: 30000,
  forceExit: true,
};
