// deploy/ecs: the task definition, service and IAM policies, checked as files (no AWS calls).
import test from 'ava';
import { checkTributaryArgs, readRepoFile, readRepoJson } from './deploy-files.js';

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
  volumes?: { name: string }[];
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: string | string[];
  NotResource?: unknown;
}

const task = readRepoJson<TaskDefinition>('deploy', 'ecs', 'task-definition.json');
const container = task.containerDefinitions.find((c) => c.name === 'tributary')!;
const credentialName = /TOKEN|SECRET|PASSWORD|KEY|DSN/i;
const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

test('task definition: Fargate, sized, one essential tributary container with both roles', (t) => {
  t.deepEqual(task.requiresCompatibilities, ['FARGATE']);
  t.is(task.networkMode, 'awsvpc');
  t.true(Number(task.cpu) >= 512, 'cpu');
  t.true(Number(task.memory) >= 1024, 'memory');
  t.truthy(container, 'a container named tributary');
  t.true(container.essential);
  t.regex(task.taskRoleArn, /^arn:aws:iam::\$\{AWS_ACCOUNT_ID\}:role\//);
  t.regex(task.executionRoleArn, /^arn:aws:iam::\$\{AWS_ACCOUNT_ID\}:role\//);
  t.notRegex(container.image, /:latest$/, 'images are deployed by immutable tag');
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

test('task definition: stopTimeout lets the node drain (≥ 30 s and above --drain-timeout, ≤ Fargate max)', (t) => {
  const { problems, drainMs } = checkTributaryArgs(container.command ?? []);
  t.deepEqual(problems, [], 'the command matches `tributary node` options');
  const stop = container.stopTimeout ?? 30;
  t.true(stop >= 30, `stopTimeout ${stop}`);
  t.true(stop * 1000 >= drainMs + 10_000, `stopTimeout ${stop}s leaves a margin over the ${drainMs} ms drain`);
  t.true(stop <= 120, 'Fargate caps stopTimeout at 120 s');
  t.true(container.linuxParameters?.initProcessEnabled, 'an init forwards SIGTERM and reaps');
});

test('task definition: credentials only in secrets, never in plain environment', (t) => {
  const env = container.environment ?? [];
  const leaked = env.filter((e) => credentialName.test(e.name)).map((e) => e.name);
  t.deepEqual(leaked, [], 'credential-like names in environment');
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

test('task definition: non-root, read-only root filesystem with writable volumes, port 8080, awslogs', (t) => {
  t.regex(container.user ?? '', /^[1-9]\d*(:[1-9]\d*)?$/, 'numeric non-root uid');
  t.true(container.readonlyRootFilesystem);
  const volumes = new Set((task.volumes ?? []).map((v) => v.name));
  for (const m of container.mountPoints ?? []) t.true(volumes.has(m.sourceVolume), `volume ${m.sourceVolume} is defined`);
  const writable = (container.mountPoints ?? []).filter((m) => !m.readOnly).map((m) => m.containerPath);
  t.true(writable.includes('/var/lib/tributary'), 'data dir writable');
  t.true(writable.includes('/tmp'));
  const dataDir = container.command?.[container.command.indexOf('--data-dir') + 1] ?? '';
  t.true(writable.some((p) => dataDir.startsWith(`${p}/`)), `--data-dir ${dataDir} is on a writable volume`);
  t.deepEqual(container.portMappings?.map((p) => p.containerPort), [8080]);
  const port = container.environment?.find((e) => e.name === 'TRIBUTARY_HTTP_PORT')?.value ?? '8080';
  t.is(port, '8080');
  t.is(container.logConfiguration?.logDriver, 'awslogs');
  for (const k of ['awslogs-group', 'awslogs-region', 'awslogs-stream-prefix']) t.truthy(container.logConfiguration?.options?.[k], k);
});

test('service: rolling deploy that never drops below desired count, circuit breaker with rollback, grace period', (t) => {
  const svc = readRepoJson<{
    taskDefinition: string;
    launchType?: string;
    deploymentConfiguration: { minimumHealthyPercent: number; maximumPercent: number; deploymentCircuitBreaker: { enable: boolean; rollback: boolean } };
    healthCheckGracePeriodSeconds: number;
    deploymentController?: { type: string };
    networkConfiguration: { awsvpcConfiguration: { assignPublicIp: string } };
  }>('deploy', 'ecs', 'service.json');
  t.is(svc.taskDefinition, task.family);
  t.is(svc.deploymentController?.type ?? 'ECS', 'ECS');
  t.is(svc.deploymentConfiguration.minimumHealthyPercent, 100);
  t.is(svc.deploymentConfiguration.maximumPercent, 200);
  t.deepEqual(svc.deploymentConfiguration.deploymentCircuitBreaker, { enable: true, rollback: true });
  t.true(svc.healthCheckGracePeriodSeconds >= (container.healthCheck?.startPeriod ?? 0));
  t.is(svc.networkConfiguration.awsvpcConfiguration.assignPublicIp, 'DISABLED');
});

/** Actions that AWS defines without a resource type, so `"Resource": "*"` is the only valid value. */
const resourceStarAllowed = new Set(['ecr:GetAuthorizationToken']);

for (const file of ['iam-task-policy.json', 'iam-execution-policy.json']) {
  test(`${file}: least privilege — no "*" actions, no "*" resources except where AWS requires`, (t) => {
    const policy = readRepoJson<{ Version: string; Statement: Statement[] }>('deploy', 'ecs', file);
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
        if (r === '*') t.true(actions.every((a) => resourceStarAllowed.has(a)), `${s.Sid}: "Resource": "*" only for ${[...resourceStarAllowed].join(', ')}`);
        else t.regex(r, /^arn:aws:/, `${s.Sid}: ${r}`);
      }
    }
  });
}

test('task policy: the table, the tributary topics and groups, sinks, secrets prefix; AssumeRole needs an ExternalId', (t) => {
  const policy = readRepoJson<{ Statement: (Statement & { Condition?: Record<string, Record<string, unknown>> })[] }>('deploy', 'ecs', 'iam-task-policy.json');
  const allows = (action: string) => policy.Statement.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource));
  for (const a of ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Scan', 'dynamodb:DescribeTable']) {
    t.deepEqual(allows(a), ['arn:aws:dynamodb:${AWS_REGION}:${AWS_ACCOUNT_ID}:table/tributary-integrations'], a);
  }
  t.true(allows('kafka-cluster:WriteData').every((r) => /:topic\/.*\/tributary\./.test(r)));
  t.false(allows('kafka-cluster:WriteData').some((r) => r.endsWith('/tributary.control')), 'nodes only read the control topic');
  t.true(allows('kafka-cluster:AlterGroup').every((r) => /:group\/.*\/tributary\.\*$/.test(r)));
  t.true(allows('secretsmanager:GetSecretValue').every((r) => r.endsWith(':secret:tributary/*')));
  for (const a of ['s3:PutObject', 'firehose:PutRecordBatch', 'kinesis:PutRecords']) t.true(allows(a).length > 0, a);
  const assume = policy.Statement.find((s) => asList(s.Action).includes('sts:AssumeRole'))!;
  t.truthy(assume.Condition?.StringLike?.['sts:ExternalId'] ?? assume.Condition?.StringEquals?.['sts:ExternalId']);
  const readme = readRepoFile('deploy', 'ecs', 'README.md');
  t.true(readme.includes('ExternalId') && readme.includes('GetAuthorizationToken'), 'exceptions are documented');
});
