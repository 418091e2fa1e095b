// ensureTopic against the real broker: many concurrent calls share one topic listing (a node
// starting N integrations must not list every topic 2N times), and every topic ends up created
// with its partitions and a leader for each.
import test from 'ava';
import type { Admin } from 'kafkajs';
import { createTopic, ensureTopic } from '../../../src/kafka/kafka.js';
import { eventually, testKafka, uniq } from '../../helpers/infra.js';

/** The real admin with some of its methods replaced (to count calls, or to answer as a lagging broker would). */
function withMethods(admin: Admin, replaced: Partial<Admin>): Admin {
  return new Proxy(admin, {
    get: (target, prop, receiver) => (prop in replaced ? replaced[prop as keyof Admin] : Reflect.get(target, prop, receiver)) as unknown,
  });
}

test('40 concurrent ensureTopic calls list the topics once, create them in one request, and every topic ends up with its leaders', async (t) => {
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  let listings = 0;
  let creations = 0;
  const counted = withMethods(admin, {
    listTopics: () => {
      listings += 1;
      return admin.listTopics();
    },
    createTopics: (o) => {
      creations += 1;
      return admin.createTopics(o);
    },
  });
  const prefix = uniq('ensure');
  const names = Array.from({ length: 40 }, (_, i) => `${prefix}-${i}`);
  await Promise.all(names.map((topic) => ensureTopic(counted, { topic, partitions: 3, retentionMs: 3_600_000 })));
  t.true(listings <= 2, `${listings} topic listings for 40 calls`);
  t.true(creations <= 2, `${creations} CreateTopics requests for 40 topics`);
  const meta = await admin.fetchTopicMetadata({ topics: names });
  t.is(meta.topics.length, 40);
  t.true(meta.topics.every((m) => m.partitions.length === 3 && m.partitions.every((p) => p.leader >= 0)));
  // Again: all exist now; nothing is created twice and no error surfaces.
  await Promise.all(names.map((topic) => ensureTopic(counted, { topic, partitions: 3 })));
  await admin.deleteTopics({ topics: names }).catch(() => undefined);
});

test('a broker whose metadata lags the creation is polled for those topics only: the cluster is still listed once', async (t) => {
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  let listings = 0;
  const checks = new Map<string, number>();
  // What a loaded broker answers for seconds after a CreateTopics: the topic is not known yet.
  // Three refusals per topic, then the broker's real answer.
  const lagging = withMethods(admin, {
    listTopics: () => {
      listings += 1;
      return admin.listTopics();
    },
    fetchTopicMetadata: async (o) => {
      const topic = o!.topics![0]!;
      const n = (checks.get(topic) ?? 0) + 1;
      checks.set(topic, n);
      if (n <= 3) throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
      return admin.fetchTopicMetadata(o);
    },
  });
  const prefix = uniq('lag');
  const names = Array.from({ length: 30 }, (_, i) => `${prefix}-${i}`);
  await Promise.all(names.map((topic) => ensureTopic(lagging, { topic, partitions: 1 })));
  t.true(listings <= 2, `${listings} whole-cluster listings for 30 topics polled 4 times each`);
  // Four polls at least: three refused, then the broker's own answer, which on a loaded machine
  // may still lack a leader for a moment (then it polls again).
  const polls = names.map((n) => checks.get(n) ?? 0);
  t.true(polls.every((n) => n >= 4), `each topic polled until its leaders showed: ${polls.join(' ')}`);
  const meta = await admin.fetchTopicMetadata({ topics: names });
  t.true(meta.topics.every((m) => m.partitions.length === 1 && m.partitions.every((p) => p.leader >= 0)));
  await admin.deleteTopics({ topics: names }).catch(() => undefined);
});

test('a topic that never gets its leaders fails with a clear error after the timeout', async (t) => {
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const never = withMethods(admin, { fetchTopicMetadata: async () => ({ topics: [] }) });
  const topic = uniq('noleader');
  const err = await t.throwsAsync(ensureTopic(never, { topic, partitions: 1 }, 1_500));
  t.regex(err!.message, new RegExp(`cannot create topic ${topic}: no leader in time`));
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
});

test('topics created in one request each get their own outcome: a refused one fails alone, an existing one is fine', async (t) => {
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const prefix = uniq('create');
  await createTopic(admin, { topic: `${prefix}-exists`, numPartitions: 1 });
  const outcomes = await Promise.allSettled([
    createTopic(admin, { topic: `${prefix}-a`, numPartitions: 2 }),
    createTopic(admin, { topic: `${prefix}-exists`, numPartitions: 1 }),
    createTopic(admin, { topic: `${prefix}-bad`, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: 'forever' }] }),
    createTopic(admin, { topic: `${prefix}-b`, numPartitions: 1 }),
    createTopic(admin, { topic: `${prefix}-b`, numPartitions: 1 }),
  ]);
  t.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  );
  t.regex(String((outcomes[2] as PromiseRejectedResult).reason?.message), /config|invalid/i);
  // Created without waiting for leaders: the broker's metadata shows them a moment later.
  const names = await eventually(async () => {
    const list = new Set(await admin.listTopics());
    return list.has(`${prefix}-a`) && list.has(`${prefix}-b`) && list.has(`${prefix}-exists`) ? list : undefined;
  }, 10_000, 'the created topics listed');
  t.false(names.has(`${prefix}-bad`));
  await admin.deleteTopics({ topics: [`${prefix}-a`, `${prefix}-b`, `${prefix}-exists`] }).catch(() => undefined);
});
