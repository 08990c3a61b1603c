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
  // The WebAssembly audio decoders ship as ES modules only (Node loads them with require(esm));
  // jest's module registry cannot, so they are transpiled to CommonJS for the tests.
  transform: {
    '^.+\\.ts$': 'ts-jest',
    '^.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' }, isolatedModules: true, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(mpg123-decoder|opus-decoder|@wasm-audio-decoders|@eshaz|codec-parser)/)'],
  testTimeout: 30000,
};
