/**
 * Unit and engine tests (jest). Kept out of package.json: n8n's community-node rules refuse
 * template placeholders such as <rootDir> in a published package.json.
 * The e2e suite has its own config: test/e2e/jest.config.js.
 * No forceExit: the suite ends by itself, every socket, server and timer closed (the package
 * promises a clean close; `npx jest --detectOpenHandles` names whatever is left open).
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
