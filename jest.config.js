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
  // How long a worker may take to exit once its last file ended before jest kills it and prints
  // "A worker process has failed to exit gracefully". No handle is left open (each worker's event
  // loop is empty within 100 ms of jest's end message), but Node then frees the worker's heap
  // (100-200 MB after its share of the suite): 0.15-0.3 s on an idle 2-core machine, 0.6-0.9 s
  // with its cores busy (other jobs, a CI runner), past jest's 500 ms, which then printed the leak
  // warning. A handle left open still keeps a worker past 3 s and still prints it.
  workerGracefulExitTimeout: 3000,
  // In node_modules/.cache: one folder for CI to keep between runs, emptied by npm ci.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
};
