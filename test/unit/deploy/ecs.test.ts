// deploy/ecs: the task definition, service and IAM policies, checked as files (no AWS calls), and
// against the code they deploy: the node's command and config, the Kafka names and AWS calls in src/.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNodeConfig, type NodeConfig } from '../../../src/config/node-config.js';
import { controlNames, groups, topics } from '../../../src/kafka/topics.js';
import { createPager } from '../../../src/supervision/pager/index.js';
import { bakedFiles, checkTributaryArgs, readRepoFile, readRepoJson, renderPlaceholders, repoPath } from './deploy-files.js';

interface KeyValue {
  name: string;
  value?: string;
  valueFrom?: string;
}
interface Container {
  name: string;
  image: string;
  essential?: boolean;
  user?: string;
  command?: string[];
  readonlyRootFilesystem?: boolean;
  portMappings?: { containerPort: number; protocol?: string }[];
  environment?: KeyValue[];
  secrets?: KeyValue[];
  healthCheck?: { command: string[]; interval?: number; timeout?: number; retries?: number; startPeriod?: number };
  stopTimeout?: number;
  dependsOn?: { containerName: string; condition: string }[];
  restartPolicy?: { enabled: boolean; restartAttemptPeriod?: number };
  mountPoints?: { sourceVolume: string; containerPath: string; readOnly?: boolean }[];
  logConfiguration?: { logDriver: string; options?: Record<string, string> };
  linuxParameters?: { initProcessEnabled?: boolean };
}
interface TaskDefinition {
  family: string;
  requiresCompatibilities: string[];
  networkMode: string;
  cpu: string;
  memory: string;
  executionRoleArn: string;
  taskRoleArn: string;
  containerDefinitions: Container[];
  volumes?: { name: string; efsVolumeConfiguration?: unknown }[];
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: string | string[];
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface Policy {
  Version: string;
  Statement: Statement[];
}

const task = readRepoJson<TaskDefinition>('deploy', 'ecs', 'task-definition.json');
const container = task.containerDefinitions.find((c) => c.name === 'tributary')!;
const taskPolicy = readRepoJson<Policy>('deploy', 'ecs', 'iam-task-policy.json');
const credentialName = /TOKEN|SECRET|PASSWORD|KEY|DSN/i;
const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const envOf = (c: Container, name: string) => c.environment?.find((e) => e.name === name)?.value;

/** What a rendered task would see: placeholders filled with samples, each secret with a sample value. */
const sample = { AWS_REGION: 'us-east-1', AWS_ACCOUNT_ID: '123456789012', KAFKA_BROKERS: 'b-1.msk.example.internal:9092,b-2.msk.example.internal:9092', ENVIRONMENT: 'production' };
function taskEnv(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.environment ?? []) env[e.name] = renderPlaceholders(e.value ?? '', sample);
  for (const s of c.secrets ?? []) env[s.name] = s.name === 'SENTRY_DSN' ? 'https://public@o1.ingest.sentry.io/1' : `sample-${s.name.toLowerCase()}`;
  return env;
}

/** The node's effective config in the task: the file its `--config` names (baked into the image) + the task's environment. */
function effectiveConfig(env: Record<string, string>): NodeConfig {
  const configPath = checkTributaryArgs(container.command ?? []).values.get('--config');
  const baked = configPath === undefined ? undefined : bakedFiles(readRepoFile('deploy', 'Dockerfile')).get(configPath);
  if (configPath !== undefined && baked === undefined) throw new Error(`${configPath} is not in the image`);
  if (baked === undefined) return loadNodeConfig({ env });
  const dir = mkdtempSync(join(tmpdir(), 'tributary-ecs-'));
  try {
    const file = join(dir, 'node.json');
    writeFileSync(file, baked);
    return loadNodeConfig({ file, env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('task definition: Fargate, sized, one essential tributary container with both roles', (t) => {
  t.deepEqual(task.requiresCompatibilities, ['FARGATE']);
  t.is(task.networkMode, 'awsvpc');
  t.true(Number(task.cpu) >= 512, 'cpu');
  t.true(Number(task.memory) >= 1024, 'memory');
  t.truthy(container, 'a container named tributary');
  t.true(container.essential);
  t.deepEqual(task.containerDefinitions.filter((c) => c.essential !== false).map((c) => c.name), ['tributary'], 'only the node is essential');
  t.regex(task.taskRoleArn, /^arn:aws:iam::\$\{AWS_ACCOUNT_ID\}:role\//);
  t.regex(task.executionRoleArn, /^arn:aws:iam::\$\{AWS_ACCOUNT_ID\}:role\//);
  for (const c of task.containerDefinitions) {
    t.notRegex(c.image, /:latest$/, `${c.name}: images are deployed by immutable tag`);
    t.regex(c.image, /:[^/]+$/, `${c.name}: tagged`);
  }
});

test('task definition: a 1-vCPU task parses Connect lines on the event loop; a larger one may keep the parse thread', (t) => {
  const config = effectiveConfig(taskEnv(container));
  if (Number(task.cpu) < 2048) t.is(config.connect.parseThreads, 0, 'on one vCPU the thread would only take turns with the event loop (docs/operations.md)');
  else t.true(config.connect.parseThreads >= 1);
});

test('task definition: health check probes /readyz with node, in exec form', (t) => {
  const hc = container.healthCheck;
  t.truthy(hc);
  t.is(hc!.command[0], 'CMD', 'exec form: no shell needed in the image');
  t.is(hc!.command[1], 'node');
  t.true(hc!.command.join(' ').includes("path:'/readyz'"));
  t.true((hc!.startPeriod ?? 0) >= 30, 'start period covers Kafka + DynamoDB start-up checks');
  t.true((hc!.timeout ?? 5) < (hc!.interval ?? 30));
});

test('task definition: the node runs in control mode, with no spec volume', (t) => {
  const check = checkTributaryArgs(container.command ?? []);
  t.deepEqual(check.problems, [], 'the command matches `tributary node` options');
  t.is(container.command?.[0], 'node');
  t.true(check.controlMode, 'integrations come from the control topic');
  t.false(check.options.has('--specs'));
  t.false((task.volumes ?? []).some((v) => v.efsVolumeConfiguration !== undefined), 'no EFS volume');
  t.false(task.containerDefinitions.some((c) => (c.mountPoints ?? []).some((m) => /spec/i.test(m.containerPath) || /spec/i.test(m.sourceVolume))), 'no spec mount');
  const mounted = new Set(task.containerDefinitions.flatMap((c) => (c.mountPoints ?? []).map((m) => m.sourceVolume)));
  for (const v of task.volumes ?? []) t.true(mounted.has(v.name), `volume ${v.name} is mounted`);
});

test('task definition: stopTimeout lets the node drain (≥ 30 s and above --drain-timeout, ≤ Fargate max)', (t) => {
  const { drainMs } = checkTributaryArgs(container.command ?? []);
  const stop = container.stopTimeout ?? 30;
  t.true(stop >= 30, `stopTimeout ${stop}`);
  t.true(stop * 1000 >= drainMs + 10_000, `stopTimeout ${stop}s leaves a margin over the ${drainMs} ms drain`);
  t.true(stop <= 120, 'Fargate caps stopTimeout at 120 s');
  t.true(container.linuxParameters?.initProcessEnabled, 'an init forwards SIGTERM and reaps');
});

test('task definition: credentials only in secrets, never in plain environment', (t) => {
  for (const c of task.containerDefinitions) {
    const leaked = (c.environment ?? []).filter((e) => credentialName.test(e.name)).map((e) => e.name);
    t.deepEqual(leaked, [], `${c.name}: credential-like names in environment`);
  }
  const env = container.environment ?? [];
  const secrets = container.secrets ?? [];
  t.true(secrets.length > 0);
  for (const s of secrets) {
    t.regex(s.valueFrom ?? '', /^arn:aws:(secretsmanager|ssm):\$\{AWS_REGION\}:\$\{AWS_ACCOUNT_ID\}:(secret:tributary\/|parameter\/tributary\/)/, s.name);
    t.is(s.value, undefined, `${s.name} has no inline value`);
  }
  const names = new Set(secrets.map((s) => s.name));
  t.true(names.has('SENTRY_DSN'));
  t.true([...names].some((n) => n.startsWith('CONNECT_TOKEN_')), 'Connect tokens are injected as secrets');
  const envNames = env.map((e) => e.name);
  t.is(new Set(envNames).size, envNames.length, 'no duplicate environment names');
  t.deepEqual(envNames.filter((n) => names.has(n)), [], 'no name in both environment and secrets');
  for (const required of ['KAFKA_BROKERS', 'AWS_REGION', 'TRIBUTARY_STATE_TABLE']) t.true(envNames.includes(required), required);
});

test('task definition: pages go to PagerDuty with the routing key from the PAGERDUTY_ROUTING_KEY secret', async (t) => {
  const env = taskEnv(container);
  const config = effectiveConfig(env);
  t.true(config.alerting.enabled, 'alerting on');
  t.is(config.alerting.pager.type, 'pagerduty', 'not the default `log` pager');
  if (config.alerting.pager.type !== 'pagerduty') return;
  const ref = config.alerting.pager.routingKey;
  t.true('ref' in ref && ref.ref.startsWith('env:'), 'the key is a reference to the environment, never a value');
  const keyName = 'ref' in ref ? ref.ref.slice('env:'.length) : '';
  t.is(keyName, 'PAGERDUTY_ROUTING_KEY');
  const secret = container.secrets?.find((s) => s.name === keyName);
  t.truthy(secret, `${keyName} is injected from a secret`);
  t.regex(secret?.valueFrom ?? '', /:parameter\/tributary\/pagerduty-routing-key$|:secret:tributary\/pagerduty/);
  // The node builds its pager at start: with the secret it is PagerDuty, without it the node refuses to start.
  const pager = await createPager(config.alerting.pager, { env });
  t.is(pager.type, 'pagerduty');
  const { [keyName]: _dropped, ...withoutKey } = env;
  await t.throwsAsync(createPager(config.alerting.pager, { env: withoutKey }), { message: /PAGERDUTY_ROUTING_KEY/ });
});

test('task definition: StatsD goes to a CloudWatch agent sidecar in the task, allowed to publish only its namespace', (t) => {
  const config = effectiveConfig(taskEnv(container));
  t.true(config.metrics.enabled, 'metrics on');
  t.is(config.metrics.host, '127.0.0.1', 'the task-local loopback (awsvpc: containers of a task share it)');
  const agent = task.containerDefinitions.find((c) => envOf(c, 'CW_CONFIG_CONTENT') !== undefined);
  t.truthy(agent, 'a StatsD agent runs in the task, or nothing would receive the metrics');
  if (!agent) return;
  t.regex(agent.image, /^public\.ecr\.aws\/cloudwatch-agent\/cloudwatch-agent:\d+\.\d+\.\w+$/, 'the CloudWatch agent at a pinned version');
  t.false(agent.essential, 'losing the agent loses metrics, not the node');
  t.true(agent.restartPolicy?.enabled, 'ECS restarts the agent if it exits');
  const cw = JSON.parse(envOf(agent, 'CW_CONFIG_CONTENT')!) as { metrics: { namespace: string; metrics_collected: { statsd?: { service_address?: string } } } };
  const statsd = cw.metrics.metrics_collected.statsd;
  t.truthy(statsd, 'the agent collects StatsD');
  t.is(Number(/:(\d+)$/.exec(statsd?.service_address ?? '')?.[1]), config.metrics.port, 'on the port the node sends to');
  t.is(config.metrics.tagFormat, 'dogstatsd', "the agent reads DogStatsD tags as dimensions (plain StatsD would fold them into names)");
  t.deepEqual(container.dependsOn?.find((d) => d.containerName === agent.name), { containerName: agent.name, condition: 'START' }, 'the node starts after the agent and stops before it');
  t.is(agent.logConfiguration?.logDriver, 'awslogs');
  t.is(agent.logConfiguration?.options?.['awslogs-group'], container.logConfiguration?.options?.['awslogs-group'], 'the log group the execution role may write');
  const put = taskPolicy.Statement.filter((s) => asList(s.Action).includes('cloudwatch:PutMetricData'));
  t.is(put.length, 1);
  t.deepEqual(put[0]?.Condition, { StringEquals: { 'cloudwatch:namespace': cw.metrics.namespace } }, "the task role publishes only to the agent's namespace");
});

test('task definition: non-root, read-only root filesystem with writable volumes, port 8080, awslogs', (t) => {
  t.regex(container.user ?? '', /^[1-9]\d*(:[1-9]\d*)?$/, 'numeric non-root uid');
  t.true(container.readonlyRootFilesystem);
  const volumes = new Set((task.volumes ?? []).map((v) => v.name));
  for (const m of container.mountPoints ?? []) t.true(volumes.has(m.sourceVolume), `volume ${m.sourceVolume} is defined`);
  const writable = (container.mountPoints ?? []).filter((m) => !m.readOnly).map((m) => m.containerPath);
  t.true(writable.includes('/var/lib/tributary'), 'data dir writable');
  t.true(writable.includes('/tmp'));
  const dataDir = checkTributaryArgs(container.command ?? []).values.get('--data-dir') ?? '';
  t.true(writable.some((p) => dataDir.startsWith(`${p}/`)), `--data-dir ${dataDir} is on a writable volume`);
  t.deepEqual(container.portMappings?.map((p) => p.containerPort), [8080]);
  const port = envOf(container, 'TRIBUTARY_HTTP_PORT') ?? '8080';
  t.is(port, '8080');
  t.is(container.logConfiguration?.logDriver, 'awslogs');
  for (const k of ['awslogs-group', 'awslogs-region', 'awslogs-stream-prefix']) t.truthy(container.logConfiguration?.options?.[k], k);
});

test('service: at least two nodes (no more than control partitions), rolling deploy that never drops below desired count, circuit breaker, grace period', (t) => {
  const svc = readRepoJson<{
    taskDefinition: string;
    desiredCount: number;
    launchType?: string;
    deploymentConfiguration: { minimumHealthyPercent: number; maximumPercent: number; deploymentCircuitBreaker: { enable: boolean; rollback: boolean } };
    healthCheckGracePeriodSeconds: number;
    deploymentController?: { type: string };
    networkConfiguration: { awsvpcConfiguration: { assignPublicIp: string } };
  }>('deploy', 'ecs', 'service.json');
  t.is(svc.taskDefinition, task.family);
  t.true(svc.desiredCount >= 2, `desiredCount ${svc.desiredCount}: integrations spread over nodes, and one node's loss leaves one running`);
  const partitions = effectiveConfig(taskEnv(container)).control.partitions;
  t.true(svc.desiredCount <= partitions, `more nodes than the ${partitions} control partitions would sit idle`);
  t.is(svc.deploymentController?.type ?? 'ECS', 'ECS');
  t.is(svc.deploymentConfiguration.minimumHealthyPercent, 100);
  t.is(svc.deploymentConfiguration.maximumPercent, 200);
  t.deepEqual(svc.deploymentConfiguration.deploymentCircuitBreaker, { enable: true, rollback: true });
  t.true(svc.healthCheckGracePeriodSeconds >= (container.healthCheck?.startPeriod ?? 0));
  t.is(svc.networkConfiguration.awsvpcConfiguration.assignPublicIp, 'DISABLED');
});

/**
 * Actions that AWS defines without a resource type, so `"Resource": "*"` is the only valid value,
 * with the condition key that must narrow them instead (none for ecr:GetAuthorizationToken).
 */
const resourceStarAllowed = new Map<string, string | undefined>([
  ['ecr:GetAuthorizationToken', undefined],
  ['cloudwatch:PutMetricData', 'cloudwatch:namespace'],
]);

for (const file of ['iam-task-policy.json', 'iam-execution-policy.json']) {
  test(`${file}: least privilege — no "*" actions, no "*" resources except where AWS requires`, (t) => {
    const policy = readRepoJson<Policy>('deploy', 'ecs', file);
    t.is(policy.Version, '2012-10-17');
    const sids = policy.Statement.map((s) => s.Sid);
    t.is(new Set(sids).size, sids.length, 'Sids are unique');
    for (const s of policy.Statement) {
      t.truthy(s.Sid, 'every statement is named');
      t.is(s.Effect, 'Allow');
      t.is(s.NotAction, undefined, `${s.Sid}: NotAction grants everything else`);
      t.is(s.NotResource, undefined, `${s.Sid}: NotResource`);
      const actions = asList(s.Action);
      t.true(actions.length > 0);
      for (const a of actions) {
        t.not(a, '*', `${s.Sid}: Action "*"`);
        t.regex(a, /^[a-z0-9-]+:[A-Za-z]+$/, `${s.Sid}: ${a} names one action (no service-wide wildcard)`);
      }
      for (const r of asList(s.Resource)) {
        if (r === '*') {
          t.true(actions.every((a) => resourceStarAllowed.has(a)), `${s.Sid}: "Resource": "*" only for ${[...resourceStarAllowed.keys()].join(', ')}`);
          for (const a of actions) {
            const key = resourceStarAllowed.get(a);
            if (key) t.truthy(Object.values(s.Condition ?? {}).some((c) => key in c), `${s.Sid}: ${a} on "*" is narrowed by ${key}`);
          }
        } else t.regex(r, /^arn:aws:/, `${s.Sid}: ${r}`);
      }
    }
  });
}

// ---- the task policy against the code ------------------------------------------------------

/** IAM wildcard match (`*` any run, `?` one character). */
const globMatches = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(value);
const allowed = (action: string, arn: string) =>
  taskPolicy.Statement.some((s) => asList(s.Action).includes(action) && asList(s.Resource).some((r) => globMatches(r, arn)));

const msk = '${MSK_CLUSTER_NAME}/${MSK_CLUSTER_UUID}';
const mskArn = 'arn:aws:kafka:${AWS_REGION}:${AWS_ACCOUNT_ID}:';
const clusterArn = `${mskArn}cluster/${msk}`;
const topicArn = (name: string) => `${mskArn}topic/${msk}/${name}`;
const groupArn = (name: string) => `${mskArn}group/${msk}/${name}`;

/** Sample run-time names, made by the code's own functions. */
const id = 'acme-ios-webhook';
const suffix = '0123456789ab';
const names = controlNames();
const tailReaderSource = readRepoFile('src', 'kafka', 'tail-reader.ts');

const create = ['CreateTopic', 'DescribeTopic'];
/** Every topic a node uses, and what it does there (src/kafka/topics.ts names them). */
const nodeTopics: { name: string; actions: string[]; never: string[] }[] = [
  // Desired state: created if missing, read whole; only the operators' CLI writes (docs/clustering.md).
  { name: names.topic, actions: [...create, 'ReadData'], never: ['WriteData'] },
  // Any further control-plane topic (the flags topic) is read the same way.
  ...Object.entries(names)
    .filter(([k]) => !['topic', 'rejected', 'group'].includes(k))
    .map(([, name]) => ({ name, actions: [...create, 'ReadData'], never: ['WriteData'] })),
  { name: names.rejected, actions: [...create, 'WriteData'], never: [] },
  { name: topics.notifications, actions: [...create, 'WriteData'], never: ['ReadData'] },
  // Sources write, sinks read (and the tail reader); the retention-risk alert reads retention.ms.
  { name: topics.events(id), actions: [...create, 'WriteData', 'ReadData', 'DescribeTopicDynamicConfiguration'], never: ['DeleteTopic', 'AlterTopic'] },
  // Dead letters are written by nodes; DLQ replay is the CLI's (src/cli/dlq-command.ts).
  { name: topics.dlq(id), actions: [...create, 'WriteData'], never: ['ReadData'] },
];
const member = ['AlterGroup', 'DescribeGroup'];
const nodeGroups: { name: string; actions: string[]; never: string[] }[] = [
  { name: names.group, actions: member, never: ['DeleteGroup'] },
  { name: groups.sink(id), actions: member, never: ['DeleteGroup'] },
  // Throwaway groups of one-off reads, deleted afterwards (src/kafka/tail-reader.ts, src/control/control-topic.ts).
  { name: groups.tailReader(suffix), actions: [...member, 'DeleteGroup'], never: [] },
  { name: groups.controlReader(suffix), actions: [...member, 'DeleteGroup'], never: [] },
];

test('task policy: Kafka — every topic and group the node uses, with exactly the actions it needs there', (t) => {
  t.regex(tailReaderSource, /groupId = groups\.tailReader\(/, 'the tail reader names its groups with groups.tailReader');
  t.regex(tailReaderSource, /deleteGroups\(\[groupId\]\)/, 'the tail reader deletes its group: DeleteGroup is used');
  t.regex(readRepoFile('src', 'control', 'control-topic.ts'), /deleteGroups\(\[groupId\]\)/, 'so does the control-topic reader');
  for (const a of ['Connect', 'DescribeCluster', 'WriteDataIdempotently']) t.true(allowed(`kafka-cluster:${a}`, clusterArn), a);
  for (const { name, actions, never } of nodeTopics) {
    for (const a of actions) t.true(allowed(`kafka-cluster:${a}`, topicArn(name)), `${a} on topic ${name}`);
    for (const a of never) t.false(allowed(`kafka-cluster:${a}`, topicArn(name)), `no ${a} on topic ${name}`);
  }
  for (const { name, actions, never } of nodeGroups) {
    for (const a of actions) t.true(allowed(`kafka-cluster:${a}`, groupArn(name)), `${a} on group ${name}`);
    for (const a of never) t.false(allowed(`kafka-cluster:${a}`, groupArn(name)), `no ${a} on group ${name}`);
  }
  // No blanket `tributary.*`: a name the code does not use is not covered.
  for (const a of ['ReadData', 'WriteData', 'CreateTopic']) t.false(allowed(`kafka-cluster:${a}`, topicArn('tributary.unrelated')), `${a} on tributary.unrelated`);
  t.false(allowed('kafka-cluster:AlterGroup', groupArn('tributary.unrelated')));
  t.false(allowed('kafka-cluster:AlterGroup', groupArn(groups.dlqReplay(id))), 'DLQ replay groups are the CLI\'s');
  // And every topic or group the policy names is one the node uses.
  const used = [...nodeTopics.map((x) => topicArn(x.name)), ...nodeGroups.map((x) => groupArn(x.name))];
  for (const s of taskPolicy.Statement) {
    for (const r of asList(s.Resource).filter((x) => /:(topic|group)\//.test(x))) t.true(used.some((u) => globMatches(r, u)), `${s.Sid}: ${r} is used by the node`);
  }
});

/** AWS SDK commands → the IAM action that authorises them. A command missing here fails the test below. */
const iamActionOf: Record<string, string> = {
  DescribeTableCommand: 'dynamodb:DescribeTable',
  CreateTableCommand: 'dynamodb:CreateTable',
  GetCommand: 'dynamodb:GetItem',
  GetItemCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  PutItemCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  UpdateItemCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  DeleteItemCommand: 'dynamodb:DeleteItem',
  QueryCommand: 'dynamodb:Query',
  ScanCommand: 'dynamodb:Scan',
  PutObjectCommand: 's3:PutObject',
  // HeadBucket has no action of its own: AWS authorises it with s3:ListBucket.
  HeadBucketCommand: 's3:ListBucket',
  PutRecordBatchCommand: 'firehose:PutRecordBatch',
  DescribeDeliveryStreamCommand: 'firehose:DescribeDeliveryStream',
  PutRecordsCommand: 'kinesis:PutRecords',
  DescribeStreamSummaryCommand: 'kinesis:DescribeStreamSummary',
  AssumeRoleCommand: 'sts:AssumeRole',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('task policy: AWS — exactly the calls in src/, on the table, the prefixed sink resources and the customer roles', (t) => {
  // src/infra runs the local Kafka and DynamoDB Local for development; never in a task.
  const files = sourceFiles(repoPath('src')).filter((f) => !f.includes(`${join('src', 'infra')}/`));
  const commands = new Set(files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/new (\w+Command)\(/g)].map((m) => m[1]!)));
  t.true(commands.size > 5, 'the scan found the SDK calls');
  const unknown = [...commands].filter((c) => !(c in iamActionOf));
  t.deepEqual(unknown, [], 'every AWS call in src/ has its IAM action in iamActionOf');
  const fromCode = new Set([...commands].map((c) => iamActionOf[c]!));
  const granted = new Set(taskPolicy.Statement.flatMap((s) => asList(s.Action)).filter((a) => !a.startsWith('kafka-cluster:') && a !== 'cloudwatch:PutMetricData'));
  t.deepEqual([...granted].sort(), [...fromCode].sort(), 'the task role grants what the code calls, nothing more');

  const resourcesOf = (action: string) => taskPolicy.Statement.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource));
  for (const a of [...fromCode].filter((x) => x.startsWith('dynamodb:'))) {
    t.deepEqual(resourcesOf(a), ['arn:aws:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/tributary-integrations'], a);
  }
  t.deepEqual(resourcesOf('s3:PutObject'), ['arn:aws:s3:::${SINK_BUCKET_PREFIX}*/*'], 'objects in the prefixed buckets');
  t.deepEqual(resourcesOf('s3:ListBucket'), ['arn:aws:s3:::${SINK_BUCKET_PREFIX}*'], 'HeadBucket: the bucket itself');
  for (const a of ['firehose:PutRecordBatch', 'firehose:DescribeDeliveryStream']) t.deepEqual(resourcesOf(a), ['arn:aws:firehose:${AWS_REGION}:${AWS_ACCOUNT_ID}:deliverystream/${SINK_STREAM_PREFIX}*'], a);
  for (const a of ['kinesis:PutRecords', 'kinesis:DescribeStreamSummary']) t.deepEqual(resourcesOf(a), ['arn:aws:kinesis:${AWS_REGION}:${AWS_ACCOUNT_ID}:stream/${SINK_STREAM_PREFIX}*'], a);
  const assume = taskPolicy.Statement.find((s) => asList(s.Action).includes('sts:AssumeRole'))!;
  t.truthy(assume.Condition?.StringLike?.['sts:ExternalId'] ?? assume.Condition?.StringEquals?.['sts:ExternalId'], 'AssumeRole needs an ExternalId');
});

test('deploy/ecs/README.md and docs/operations.md: control mode, no static spec directories', (t) => {
  const readme = readRepoFile('deploy', 'ecs', 'README.md');
  t.true(readme.includes('ExternalId') && readme.includes('GetAuthorizationToken') && readme.includes('PutMetricData'), 'exceptions are documented');
  t.true(readme.includes('tributary node --control') && readme.includes('integrations create'), 'how nodes run and how integrations are created');
  t.notRegex(readme, /--specs|SPECS_EFS|EFS access point/, 'no spec volume');
  const operations = readRepoFile('docs', 'operations.md');
  const stale = /until (?:that lands|integrations are assigned|nodes take their integrations|the control topic assigns)|own spec director|one service per spec|Once the\s+control topic assigns/i;
  for (const [name, text] of [['README.md', readme], ['operations.md', operations]] as const) t.notRegex(text, stale, `${name}: no "until the control plane" statements`);
  t.true(operations.includes('integrations create'), 'operations.md says how integrations are created');
});
