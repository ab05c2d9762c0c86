const os = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  runtime: '<rootDir>/test/support/jest-runtime.js',
  roots: ['<rootDir>/test'],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  globalSetup: '<rootDir>/test/global-setup.js',
  globalTeardown: '<rootDir>/test/global-teardown.js',
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  testMatch: ['**/*.test.ts'],
  // The CLI loads its commands with import('./x.js') (the compiled CommonJS runs them as files): map to the sources.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] },
  // One worker per core (jest's default leaves one core idle: one worker on a 2-core machine).
  maxWorkers: os.availableParallelism(),
  // Construct tests synthesize CDK apps: give them room on a busy 2-core machine.
  testTimeout: 60000,
  // In node_modules/.cache: one folder for CI to keep between runs, emptied by npm ci.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
};
