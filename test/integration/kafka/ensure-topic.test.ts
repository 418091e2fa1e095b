// ensureTopic against the real broker: many concurrent calls share one topic listing (a node
// starting N integrations must not list every topic 2N times), and every topic ends up created
// with its partitions and a leader for each.
import test from 'ava';
import type { Admin } from 'kafkajs';
import { ensureTopic } from '../../../src/kafka/kafka.js';
import { testKafka, uniq } from '../../helpers/infra.js';

test('40 concurrent ensureTopic calls list the topics once and create every topic', async (t) => {
  const admin = testKafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  let listings = 0;
  const counted = new Proxy(admin, {
    get(target, prop, receiver) {
      if (prop === 'listTopics') {
        return () => {
          listings += 1;
          return target.listTopics();
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  }) as Admin;
  const prefix = uniq('ensure');
  const names = Array.from({ length: 40 }, (_, i) => `${prefix}-${i}`);
  await Promise.all(names.map((topic) => ensureTopic(counted, { topic, partitions: 3, retentionMs: 3_600_000 })));
  t.true(listings <= 2, `${listings} topic listings for 40 calls`);
  const meta = await admin.fetchTopicMetadata({ topics: names });
  t.is(meta.topics.length, 40);
  t.true(meta.topics.every((m) => m.partitions.length === 3 && m.partitions.every((p) => p.leader >= 0)));
  // Again: all exist now; nothing is created twice and no error surfaces.
  await Promise.all(names.map((topic) => ensureTopic(counted, { topic, partitions: 3 })));
  await admin.deleteTopics({ topics: names }).catch(() => undefined);
});
