// ensureTopic against the real broker: many concurrent calls share one topic listing (a node
// starting N integrations must not list every topic 2N times), and every topic ends up created
// with its partitions and a leader for each.
import test from 'ava';
import type { Admin } from 'kafkajs';
import { createTopic, ensureTopic } from '../../../src/kafka/kafka.js';
import { eventually, testKafka, uniq } from '../../helpers/infra.js';

test('40 concurrent ensureTopic calls list the topics once, create them in one request, and every topic ends up with its leaders', async (t) => {
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  let listings = 0;
  let creations = 0;
  const counted = new Proxy(admin, {
    get(target, prop, receiver) {
      if (prop === 'listTopics') {
        return () => {
          listings += 1;
          return target.listTopics();
        };
      }
      if (prop === 'createTopics') {
        return (o: Parameters<Admin['createTopics']>[0]) => {
          creations += 1;
          return target.createTopics(o);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  }) as Admin;
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
