// ava configuration for test/integration (see test/run.ts for how suites are started).
export default {
  files: ['test/integration/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '180s',
  concurrency: 1,
  verbose: true,
};
