// The embedded Apache Kafka broker (KRaft, single node, no ZooKeeper) from Maven Central jars.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode, TributaryError } from '../errors.js';
import { startJavaServer } from './java-server.js';
import { fetchJars } from './maven.js';
import { kafkaPom } from './paths.js';
import { choosePort } from './ports.js';

export interface KafkaStartOptions {
  cacheDir: string;
  /** Instance directory: data, config and logs. */
  dir: string;
  port: number;
  heapMb: number;
  quiet?: boolean;
}

export interface StartedServer {
  pid: number;
  address: string;
  dir: string;
  logFile: string;
}

export async function startKafka(o: KafkaStartOptions): Promise<StartedServer> {
  const { libDir } = await fetchJars(kafkaPom, o.cacheDir, 'kafka', o.quiet);
  const port = await choosePort(o.port, 'Kafka');
  const controllerPort = await choosePort(0, 'the Kafka controller');
  const dataDir = join(o.dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const props = join(o.dir, 'server.properties');
  writeFileSync(props, serverProperties(port, controllerPort, dataDir));
  const log4j = join(o.dir, 'log4j.properties');
  writeFileSync(log4j, log4jProperties(join(o.dir, 'kafka-server.log')));
  const classpath = `${libDir}/*`;
  const jvm = [`-Dlog4j.configuration=file:${log4j}`, `-Dkafka.logs.dir=${o.dir}`, '-Djava.awt.headless=true'];

  await run(
    'Kafka storage format',
    // `--cluster-id=<id>`, not `-t <id>`: an id read back from meta.properties may start with '-',
    // which the tool's argument parser would take for an option.
    [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', `--cluster-id=${existingClusterId(dataDir) ?? newClusterId()}`, '-c', props, '--ignore-formatted'],
    o.dir,
  );

  const address = `127.0.0.1:${port}`;
  const logFile = join(o.dir, 'kafka.out');
  const pid = await startJavaServer({
    name: `kafka ${address}`,
    cwd: o.dir,
    logFile,
    quiet: o.quiet ?? false,
    args: [`-Xms${o.heapMb}m`, `-Xmx${o.heapMb}m`, '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', ...jvm, '-cp', classpath, 'kafka.Kafka', props],
    probe: () => kafkaAnswers(address),
  });
  return { pid, address, dir: o.dir, logFile };
}

/** True once the broker answers a metadata request and has a controller. */
export async function kafkaAnswers(address: string, timeoutMs = 2_000): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'tributary-probe',
    brokers: [address],
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// A persistent data dir keeps its cluster id; formatting it with another one fails.
function existingClusterId(dataDir: string): string | undefined {
  const meta = join(dataDir, 'meta.properties');
  if (!existsSync(meta)) return undefined;
  return /^cluster\.id=(.+)$/m.exec(readFileSync(meta, 'utf8'))?.[1]?.trim();
}

/**
 * KRaft cluster ids are 16 random bytes, base64url without padding. Like Kafka's own
 * `Uuid.randomUuid`, never one starting with '-' (1 in 64 would): command lines read it as an option.
 */
export function newClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties(port: number, controllerPort: number, dataDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    // Tributary creates its topics itself, with per-tier partitions and retention.
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'group.initial.rebalance.delay.ms=0',
    'group.min.session.timeout.ms=1000',
    'log.retention.check.interval.ms=30000',
    'log.segment.bytes=67108864',
    '',
  ].join('\n');
}

function log4jProperties(file: string): string {
  return [
    'log4j.rootLogger=WARN, file',
    'log4j.logger.kafka=INFO',
    'log4j.logger.org.apache.kafka=WARN',
    'log4j.appender.file=org.apache.log4j.RollingFileAppender',
    `log4j.appender.file.File=${file}`,
    'log4j.appender.file.MaxFileSize=20MB',
    'log4j.appender.file.MaxBackupIndex=2',
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    '',
  ].join('\n');
}

function run(what: string, args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new TributaryError(ErrorCode.infraStartFailed, `${what} failed (exit ${code}): ${err}`));
    });
  });
}
