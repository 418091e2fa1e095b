// Runs the test suites: `unit` needs no servers; `integration` and `e2e` start the embedded
// Kafka and DynamoDB once for the whole run (or use KAFKA_BROKERS / DYNAMODB_ENDPOINT) and
// stop them by pid afterwards, even on Ctrl-C. Usage: node --import tsx test/run.ts [unit|integration|e2e|all]
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { infraDown, infraEnv, infraUp } from '../src/infra/local-infra.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const suites = ['unit', 'integration', 'e2e'] as const;
type Suite = (typeof suites)[number];

function hasTests(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('.test.ts'));
}

function runAva(suite: Suite, env: NodeJS.ProcessEnv): Promise<number> {
  if (!hasTests(`test/${suite}`)) {
    process.stderr.write(`\n=== ${suite} tests: none yet ===\n`);
    return Promise.resolve(0);
  }
  return new Promise((resolve, reject) => {
    process.stderr.write(`\n=== ${suite} tests ===\n`);
    const child = spawn(process.execPath, ['node_modules/ava/entrypoints/cli.mjs', '--config', `ava.${suite}.config.js`], {
      stdio: 'inherit',
      env,
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  const arg = process.argv[2] ?? 'all';
  const wanted: Suite[] = arg === 'all' ? [...suites] : suites.filter((s) => s === arg);
  if (wanted.length === 0) {
    process.stderr.write(`unknown suite "${arg}": use one of ${suites.join(', ')}, all\n`);
    return 2;
  }
  const instance = `test-${process.pid}`;
  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      await infraDown({ instance });
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    void stop().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failed = 0;
  try {
    let env: NodeJS.ProcessEnv = {
      ...process.env,
      TRIBUTARY_LOG_LEVEL: process.env.TRIBUTARY_LOG_LEVEL ?? 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    for (const suite of wanted) {
      if (suite !== 'unit' && !started) {
        started = true;
        const infraStarted = Date.now();
        const state = await infraUp({ instance, ownerPid: process.pid, kafkaHeapMb: 768 });
        process.stderr.write(`=== Kafka and DynamoDB up in ${((Date.now() - infraStarted) / 1000).toFixed(0)} s ===\n`);
        env = { ...env, ...infraEnv(state) };
      }
      const suiteStarted = Date.now();
      const code = await runAva(suite, env);
      process.stderr.write(`=== ${suite} tests: ${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - suiteStarted) / 1000).toFixed(0)} s ===\n`);
      if (code !== 0) failed += 1;
    }
  } finally {
    await stop();
  }
  process.stderr.write(failed === 0 ? '\nall suites passed\n' : `\n${failed} suite(s) failed\n`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
