import test from 'ava';
import kafkajs from 'kafkajs';

const { ConfigResourceTypes } = kafkajs;
import { parseNodeConfig } from '../../../src/config/node-config.js';
import { ensureControlTopics, readControlTopic } from '../../../src/control/control-topic.js';
import { IntegrationsClient } from '../../../src/control/integrations-client.js';
import { controlNames } from '../../../src/kafka/topics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { brokers, dynamoEndpoint, testKafka, uniq } from '../../helpers/infra.js';

const spec = (id: string, extra: Record<string, unknown> = {}) => ({
  version: 1,
  id,
  app: { key: 'app1', size: 'small' },
  connect: { url: 'https://connect.urbanairship.com/api/events', token: { ref: 'env:ACME_TOKEN' } },
  sink: { type: 'webhook', url: 'https://hooks.example.com/in' },
  ...extra,
});

function setup() {
  const run = uniq('ct');
  const config = parseNodeConfig({
    kafka: { brokers: brokers() },
    dynamodb: { endpoint: dynamoEndpoint(), table: uniq('tributary-ct') },
    control: { topic: `tributary.control.${run}`, group: `tributary.nodes.${run}`, partitions: 4 },
  });
  return { config, names: controlNames(config.control), client: IntegrationsClient.create(config, createLogger({ level: 'silent' })) };
}

test('the control topic is created compacted with the configured partitions, and the rejected topic beside it', async (t) => {
  const { names } = setup();
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await ensureControlTopics(admin, names, 4);
  await ensureControlTopics(admin, names, 4); // idempotent
  const meta = await admin.fetchTopicMetadata({ topics: [names.topic, names.rejected] });
  t.is(meta.topics.find((x) => x.name === names.topic)!.partitions.length, 4);
  const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: names.topic }] });
  const entries = new Map(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
  t.is(entries.get('cleanup.policy'), 'compact');
  t.is(names.rejected, `${names.topic}.rejected`);
});

test('create fails when the id exists, update/pause/delete when it does not; the newest record wins and tombstones delete', async (t) => {
  const { client, config, names } = setup();
  t.teardown(() => client.close());
  await t.throwsAsync(client.update(spec('a')), { message: /does not exist; use `integrations create`/ });
  await t.throwsAsync(client.setState('a', 'paused'), { message: /does not exist/ });
  const created = await client.create(spec('a'));
  t.is(created.action, 'created');
  await t.throwsAsync(client.create(spec('a')), { message: /already exists/ });
  const paused = await client.setState('a', 'paused');
  t.is(paused.action, 'paused');
  const got = await client.get('a').catch(() => undefined);
  t.is((got?.spec as { state?: string } | undefined)?.state, 'paused');
  const replay = await client.replay('a', 'earliest');
  t.regex(replay.requestId!, /^r-/);
  await client.delete('a');
  await t.throwsAsync(client.delete('a'), { message: /does not exist/ });
  await client.create(spec('a'));
  // Validation happens before producing: nothing is written for a bad spec.
  await t.throwsAsync(client.create(spec('b', { sink: { type: 'webhook', url: 'http://10.0.0.1/hook' } })), { message: /sink\.url/ });
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const snapshot = await readControlTopic(kafka, admin, names.topic);
  t.deepEqual([...snapshot.latest.keys()].sort(), ['a']);
  t.is(snapshot.records, 5, 'create, pause, replay, tombstone, create');
  t.falsy(JSON.parse(snapshot.latest.get('a')!.value!.toString()).state);
  t.is(config.control.partitions, 4);
});

test('inline secrets are never echoed back by get', async (t) => {
  const { client } = setup();
  t.teardown(() => client.close());
  const local = IntegrationsClient.create(parseNodeConfig({ ...{ local: true }, kafka: { brokers: brokers() }, dynamodb: { endpoint: dynamoEndpoint(), table: uniq('t') }, control: { topic: `tributary.control.${uniq('s')}` } }), createLogger({ level: 'silent' }));
  t.teardown(() => local.close());
  await local.create(spec('s', { connect: { url: 'http://127.0.0.1:1/api/events', token: { value: 'canary-secret-93b1' } } }));
  const got = await local.get('s');
  t.false(JSON.stringify(got).includes('canary-secret-93b1'));
  t.deepEqual((got.spec as { connect: { token: unknown } }).connect.token, { value: '[redacted]' });
});
