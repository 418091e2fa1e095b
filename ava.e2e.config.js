// ava configuration for test/e2e (see test/run.ts for how suites are started).
export default {
  files: ['test/e2e/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '600s',
  concurrency: 1,
  verbose: true,
  environmentVariables: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', KAFKAJS_NO_PARTITIONER_WARNING: '1' },
};
