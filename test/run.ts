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

// ava's lines that name a failure: a failed or timed-out test, an uncaught error, a worker that
// exited. They are repeated at the very end, because a CI log is often read from its tail and the
// suites after the failing one would push them out of it.
const FAILURE_LINE = /✘|Uncaught exception|Unhandled rejection|Timed out while running tests|exited with a non-zero exit code/;

/** Copies a child's output to ours as it comes and keeps the lines that name a failure. */
function forwardKeepingFailures(from: NodeJS.ReadableStream, to: NodeJS.WriteStream, failures: string[]): void {
  let partial = '';
  from.setEncoding('utf8');
  const scan = (line: string) => {
    const plain = line.replace(/\u001b\[[0-9;]*m/g, '').trim();
    if (FAILURE_LINE.test(plain)) failures.push(plain.length > 400 ? `${plain.slice(0, 400)}…` : plain);
  };
  from.on('data', (chunk: string) => {
    to.write(chunk);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(scan);
  });
  from.on('end', () => {
    if (partial) scan(partial);
  });
}

function runAva(suite: Suite, env: NodeJS.ProcessEnv, failures: string[]): Promise<number> {
  if (!hasTests(`test/${suite}`)) {
    process.stderr.write(`\n=== ${suite} tests: none yet ===\n`);
    return Promise.resolve(0);
  }
  return new Promise((resolve, reject) => {
    process.stderr.write(`\n=== ${suite} tests ===\n`);
    const child = spawn(process.execPath, ['node_modules/ava/entrypoints/cli.mjs', '--config', `ava.${suite}.config.js`], {
      stdio: ['inherit', 'pipe', 'pipe'],
      // Piped, ava would drop its colours on a terminal: keep them there.
      env: process.stdout.isTTY && env.FORCE_COLOR === undefined ? { ...env, FORCE_COLOR: '1' } : env,
    });
    forwardKeepingFailures(child.stdout, process.stdout, failures);
    forwardKeepingFailures(child.stderr, process.stderr, failures);
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
  const failedSuites: { suite: Suite; lines: string[] }[] = [];
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
      const lines: string[] = [];
      const code = await runAva(suite, env, lines);
      process.stderr.write(`=== ${suite} tests: ${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - suiteStarted) / 1000).toFixed(0)} s ===\n`);
      if (code !== 0) failedSuites.push({ suite, lines });
    }
  } finally {
    await stop();
  }
  if (failedSuites.length === 0) {
    process.stderr.write('\nall suites passed\n');
    return 0;
  }
  for (const { suite, lines } of failedSuites) {
    process.stderr.write(`\n${suite} FAILED:\n${lines.length > 0 ? lines.map((l) => `  ${l}`).join('\n') : '  (no failing test named; see the suite output above)'}\n`);
  }
  process.stderr.write(`\n${failedSuites.length} suite(s) failed: ${failedSuites.map((f) => f.suite).join(', ')}\n`);
  return 1;
}

process.exitCode = await main();
