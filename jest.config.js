/** @type {import('jest').Config} */
module.exports = {
  // jest's Node environment without Node 21+'s navigator: see test/support/environment.js.
  testEnvironment: '<rootDir>/test/support/environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  setupFiles: ['<rootDir>/test/support/env.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.js',
  // Store and synth suites start real processes (DynamoDB Local, esbuild); give them room.
  testTimeout: 60_000,
  // One suite at a time: the concurrency suites measure DynamoDB Local answering 200 simultaneous attempts within
  // the shipped 1.5 s budget, which a second suite's JVMs, chromium and esbuild on the same 2 cores would make a
  // test of the machine's load instead.
  maxWorkers: 1,
};
