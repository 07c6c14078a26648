/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  setupFiles: ['<rootDir>/test/support/env.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  // Store and synth suites start real processes (DynamoDB Local, esbuild); give them room.
  testTimeout: 60_000,
  // Two cores here and in CI: more workers only contend for the JVM and esbuild.
  maxWorkers: 2,
};
