// Cattle, not pets, for real: a node process runs against a second embedded Kafka; that Kafka is
// killed; past the (shortened) grace period the node exits non-zero with one clear log line.
// Kafka restarts on the same port with the same data, a new node takes over, nothing is lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { nodeFaultExitCode } from '../../src/cli/node-command.js';
import { stopPid } from '../../src/infra/java-server.js';
import { startKafka } from '../../src/infra/kafka.js';
import { infraDown, infraUp } from '../../src/infra/local-infra.js';
import { defaultCacheDir } from '../../src/infra/paths.js';
import { servedIds, startFixture } from '../helpers/pipeline.js';
import { uniq } from '../helpers/infra.js';

interface NodeProc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function runNode(configFile: string, specsFile: string, dataDir: string, brokers: string): NodeProc {
  const child = spawn(process.execPath, ['bin/tributary.js', 'node', '--config', configFile, '--specs', specsFile, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The environment overrides the config file: point it at this test's own Kafka.
    env: { ...process.env, KAFKA_BROKERS: brokers, TRIBUTARY_LOG_LEVEL: 'info' },
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => out, exited };
}

test('Kafka unreachable past the grace period makes the node exit non-zero; after Kafka restarts a new node resumes with nothing lost', async (t) => {
  const cacheDir = defaultCacheDir(process.env);
  const instance = uniq('alert-kafka-test');
  // Only a Kafka: DynamoDB stays the suite's (external to this instance).
  const env = { ...process.env, KAFKA_BROKERS: '', DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT ?? '' };
  const state = await infraUp({ instance, ownerPid: process.pid, cacheDir, env, quiet: true });
  const first = state.servers.find((s) => s.name === 'kafka')!;
  let restartedPid: number | undefined;
  t.teardown(async () => {
    if (restartedPid !== undefined) await stopPid(restartedPid, 5_000).catch(() => undefined);
    await infraDown({ instance, cacheDir, env });
  });

  const f = await startFixture([{ size: 'large', totalEvents: 4_000, rate: 400 }]);
  t.teardown(() => f.close());
  f.nodeConfig.kafka = { brokers: [first.address], connectionTimeoutMs: 1_000, requestTimeoutMs: 5_000 };
  f.nodeConfig.health = { graceMs: 3_000, probeIntervalMs: 500, probeTimeoutMs: 1_000 };
  f.nodeConfig.log = { level: 'info' };
  const configFile = join(f.dir, 'node.json');
  const specsFile = join(f.dir, 'specs.json');
  writeFileSync(configFile, JSON.stringify({ ...f.nodeConfig, nodeId: 'fault-a' }));
  writeFileSync(specsFile, JSON.stringify(f.specs));

  const a = runNode(configFile, specsFile, join(f.dir, 'data'), first.address);
  t.teardown(() => void a.child.kill('SIGKILL'));
  await f.receiver.waitFor((rx) => rx.deliveredCount() >= 200, 60_000, 'first deliveries');

  const killedAt = Date.now();
  process.kill(first.pid!, 'SIGKILL');
  const code = await Promise.race([a.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000))]);
  const exitedAfter = Date.now() - killedAt;
  t.is(code, nodeFaultExitCode, `exit status (output tail: ${a.out().slice(-2_000)})`);
  const line = a.out().split('\n').find((l) => l.includes('node fault: Kafka'));
  t.truthy(line, 'one clear log line names Kafka and since when');
  t.regex(line!, new RegExp(`node fault: Kafka \\(${first.address.replace(/\./g, '\\.')}\\) unreachable since \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z`));
  t.log(`node exited ${exitedAfter} ms after Kafka was killed (grace 3000 ms): ${JSON.parse(line!).msg as string}`);

  // Kafka back on the same port with the same data; a fresh node takes over.
  const port = Number(first.address.split(':')[1]);
  const again = await startKafka({ cacheDir, dir: first.dir!, port, heapMb: 512, quiet: true });
  restartedPid = again.pid;
  const configB = join(f.dir, 'node-b.json');
  writeFileSync(configB, JSON.stringify({ ...f.nodeConfig, nodeId: 'fault-b' }));
  const b = runNode(configB, specsFile, join(f.dir, 'data'), again.address);
  t.teardown(() => void b.child.kill('SIGKILL'));
  const bStarted = Date.now();
  try {
    await f.receiver.waitFor((rx) => rx.deliveredSet().size >= 4_000, 90_000, 'every event delivered');
  } catch (err) {
    // Say why: the new node's warnings and errors are the evidence.
    const trouble = b.out().split('\n').filter((l) => /"level":"(warn|error|fatal)"/.test(l));
    const url = /"url":"(http:[^"]+)","msg":"node started"/.exec(b.out())?.[1];
    const status = url ? await fetch(`${url}/status`).then((r) => r.text(), (e: Error) => e.message) : 'no status URL in its log';
    t.log(`node B after ${Date.now() - bStarted} ms, ${f.receiver.deliveredSet().size} of 4000 delivered; /status: ${status}; its warnings:\n${trouble.slice(-40).join('\n')}`);
    throw err;
  }
  t.log(`new node delivered the rest ${Date.now() - bStarted} ms after it started`);
  const delivered = f.receiver.deliveredSet();
  const missing = servedIds(f, 0).filter((id) => !delivered.has(id));
  t.deepEqual(missing, [], 'nothing lost');
  b.child.kill('SIGTERM');
  t.is(await b.exited, 0);
});
