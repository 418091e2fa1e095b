// The parked sinks' offset watcher against the real broker: one poll covers many topics, a sink
// is woken only when its own topic grows past its position, a deleted topic wakes only its own
// sink (kafkajs would fail the whole request), and an unreachable broker wakes everyone in time.
import test from 'ava';
import { ensureTopic } from '../../../src/kafka/kafka.js';
import { grewPast, OffsetWatcher } from '../../../src/kafka/offset-watcher.js';
import { RawKafka, type MetadataResponse } from '../../../src/kafka/raw-kafka.js';
import { retryLookup } from '../../../src/kafka/tail-reader.js';
import { createLogger } from '../../../src/observability/logger.js';
import { eventually, testKafka, uniq } from '../../helpers/infra.js';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';

const logger = createLogger({ level: 'silent' });

/**
 * `n` new topics, created together. Unless `settled` is false, each partition's leader answers
 * ListOffsets before this returns: for a moment after a topic's Metadata names its leader, the
 * leader may still say NOT_LEADER_OR_FOLLOWER, which the watcher asks about again (a test counting
 * its questions would count those too).
 */
async function topicsWith(n: number, partitions = 2, settled = true) {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const names = Array.from({ length: n }, () => uniq('ow'));
  await Promise.all(names.map((topic) => ensureTopic(admin, { topic, partitions, retentionMs: 3_600_000 })));
  if (settled) await readable(kafka, names);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return {
    kafka,
    admin,
    names,
    produce: (topic: string, partition: number, n = 1) => producer.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ partition, value: `v${i}` })) }),
    close: async () => {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

/**
 * Waits until every partition of `topics` answers ListOffsets from the leader its Metadata names
 * (`lastRecords` asks each partition's leader for both ends and throws on any partition's error).
 */
async function readable(kafka: Kafka, topics: string[]) {
  const raw = new RawKafka(kafka);
  try {
    await eventually(() => Promise.all(topics.map((topic) => raw.lastRecords(topic))).then(() => true, () => undefined), 20_000, 'every partition answers ListOffsets');
  } finally {
    await raw.reset();
  }
}

/** Watches every topic from the start with handlers that record what they were handed and why they woke. */
function watchAll(watcher: OffsetWatcher, topics: readonly string[], o: { fails?: (topic: string) => boolean; weigh?: (m: KafkaMessage) => number } = {}) {
  const got: string[] = [];
  const woken: string[] = [];
  for (const topic of topics) {
    watcher.watch(topic, new Map(), {
      wake: (reason) => woken.push(`${topic}: ${reason}`),
      deliver: async (records) => {
        if (o.fails?.(topic)) throw new Error('sink down');
        const next = new Map<number, bigint>();
        for (const [p, ms] of records) {
          got.push(...ms.map((m) => `${topic}/${p}/${m.offset}/${m.value}`));
          next.set(p, BigInt(ms[ms.length - 1]!.offset) + 1n);
        }
        return next;
      },
      ...(o.weigh ? { weigh: o.weigh } : {}),
    });
  }
  return { got, woken };
}

test('grewPast: a partition past its position (or one the sink never saw) means work', (t) => {
  t.is(grewPast(new Map([[0, 5n], [1, 3n]]), new Map([[0, 5n], [1, 3n]])), undefined);
  t.is(grewPast(new Map([[0, 5n], [1, 4n]]), new Map([[0, 5n], [1, 3n]])), 'partition 1 has 1 new records');
  t.is(grewPast(new Map([[2, 1n]]), new Map([[0, 0n]])), 'partition 2 has 1 new records');
  t.is(grewPast(new Map([[0, 0n]]), new Map()), undefined);
});

test('one poll reads every watched topic; only the sink whose topic grew wakes, once', async (t) => {
  const env = await topicsWith(30);
  t.teardown(env.close);
  const watcher = new OffsetWatcher({ kafka: env.kafka, logger, pollMs: 60_000 });
  t.teardown(() => watcher.stop());
  // Some records already there: the sinks' positions are at the end.
  await env.produce(env.names[0]!, 1, 3);
  const woken: string[] = [];
  for (const topic of env.names) {
    const positions = new Map<number, bigint>(topic === env.names[0] ? [[0, 0n], [1, 3n]] : [[0, 0n], [1, 0n]]);
    watcher.watch(topic, positions, { wake: (reason) => woken.push(`${topic}: ${reason}`) });
  }
  await watcher.poll();
  t.deepEqual(woken, [], 'nothing past any position yet');
  t.is(watcher.size, 30);

  await env.produce(env.names[7]!, 0, 2);
  await watcher.poll();
  t.deepEqual(woken, [`${env.names[7]}: partition 0 has 2 new records`]);
  t.is(watcher.size, 29, 'a woken watch is gone');
  await env.produce(env.names[7]!, 0, 2);
  await watcher.poll();
  t.is(woken.length, 1, 'woken once');
});

test('a trickle is fetched and handed over (positions advance); a backlog or a failed delivery wakes', async (t) => {
  const env = await topicsWith(2);
  t.teardown(env.close);
  const watcher = new OffsetWatcher({ kafka: env.kafka, logger, pollMs: 60_000, trickleRecords: 100 });
  t.teardown(() => watcher.stop());
  let failNext = false;
  const { got, woken } = watchAll(watcher, env.names, { fails: (topic) => failNext && topic === env.names[1] });
  await env.produce(env.names[0]!, 1, 3);
  await watcher.poll();
  await eventually(() => (got.length === 3 ? true : undefined), 5_000, '3 records handed over');
  t.deepEqual(got, [0, 1, 2].map((i) => `${env.names[0]}/1/${i}/v${i}`));
  await watcher.poll();
  t.is(got.length, 3, 'positions advanced: nothing handed over twice');
  t.deepEqual(woken, []);

  await env.produce(env.names[0]!, 0, 150); // more than the trickle: the sink should consume itself
  failNext = true;
  await env.produce(env.names[1]!, 0, 2);
  await watcher.poll();
  await eventually(() => (woken.length === 2 ? true : undefined), 5_000, 'both woken');
  t.true(woken.some((w) => w.startsWith(`${env.names[0]}: partition 0 has 150 new records`)));
  t.true(woken.some((w) => w.startsWith(`${env.names[1]}: delivery of fetched records failed: sink down`)));
  t.is(watcher.size, 0);
});

test('a sink that weighs its records: a few records carrying more events than a trickle wake it; light ones are delivered here', async (t) => {
  const env = await topicsWith(2);
  t.teardown(env.close);
  const watcher = new OffsetWatcher({ kafka: env.kafka, logger, pollMs: 60_000, trickleRecords: 100 });
  t.teardown(() => watcher.stop());
  // Each record stands for 40 events, as a packed record of 40 would.
  const { got, woken } = watchAll(watcher, env.names, { weigh: () => 40 });
  await env.produce(env.names[0]!, 0, 2); // 80 events: a trickle
  await env.produce(env.names[1]!, 1, 3); // 3 records, 120 events: a burst
  await watcher.poll();
  await eventually(() => (got.length === 2 && woken.length === 1 ? true : undefined), 5_000, 'trickle handed over, burst woken');
  t.deepEqual(got, [`${env.names[0]}/0/0/v0`, `${env.names[0]}/0/1/v1`]);
  t.deepEqual(woken, [`${env.names[1]}: 120 new events in 3 records: more than a trickle`]);
  t.is(watcher.size, 1, 'the woken watch is gone; the light one stays');
});

test('a commit without a group member is refused while the group has members (another owner)', async (t) => {
  const env = await topicsWith(1);
  t.teardown(env.close);
  const watcher = new OffsetWatcher({ kafka: env.kafka, logger, pollMs: 60_000 });
  t.teardown(() => watcher.stop());
  const groupId = uniq('ow-group');
  await env.produce(env.names[0]!, 0, 2);
  watcher.watch(env.names[0]!, new Map([[0, 2n], [1, 0n]]), { wake: () => undefined });
  await watcher.poll();
  // A fresh broker may still be loading the group's coordinator (NOT_COORDINATOR): retried, as callers do.
  await retryLookup(() => watcher.commit(groupId, env.names[0]!, new Map([[0, '2']])));
  const committed = await env.admin.fetchOffsets({ groupId, topics: [env.names[0]!] });
  t.is(committed[0]!.partitions.find((p) => p.partition === 0)!.offset, '2', 'an empty group takes the commit');

  const consumer = env.kafka.consumer({ groupId, sessionTimeout: 10_000 });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topic: env.names[0]!, fromBeginning: true });
  let joined!: () => void;
  const isJoined = new Promise<void>((r) => (joined = r));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({ eachMessage: async () => undefined });
  await isJoined;
  await t.throwsAsync(() => watcher.commit(groupId, env.names[0]!, new Map([[0, '1']])));
});

test('a cancelled watch never wakes', async (t) => {
  const env = await topicsWith(1);
  t.teardown(env.close);
  const watcher = new OffsetWatcher({ kafka: env.kafka, logger, pollMs: 60_000 });
  t.teardown(() => watcher.stop());
  let woken = 0;
  const cancel = watcher.watch(env.names[0]!, new Map(), { wake: () => (woken += 1) });
  cancel();
  await env.produce(env.names[0]!, 0);
  await watcher.poll();
  t.is(woken, 0);
});

test('a deleted topic wakes only its own sink; the others are still watched', async (t) => {
  const env = await topicsWith(3);
  t.teardown(env.close);
  const watcher = new OffsetWatcher({ kafka: env.kafka, logger, pollMs: 60_000 });
  t.teardown(() => watcher.stop());
  const woken = new Map<string, string>();
  for (const topic of env.names) watcher.watch(topic, new Map(), { wake: (reason) => woken.set(topic, reason) });
  await env.admin.deleteTopics({ topics: [env.names[1]!] });
  await eventually(async () => {
    await watcher.poll();
    return woken.has(env.names[1]!) ? true : undefined;
  }, 20_000, 'the deleted topic\'s sink woken');
  t.regex(woken.get(env.names[1]!)!, /error code 3/); // UNKNOWN_TOPIC_OR_PARTITION
  t.is(woken.size, 1);
  await env.produce(env.names[2]!, 1);
  await watcher.poll();
  t.regex(woken.get(env.names[2]!)!, /partition 1 has 1 new records/, 'the watcher still reads the other topics');
});

/**
 * Three topics, a watcher whose leaders age after `metadataMaxAgeMs`, and the topics the watchers
 * of this test process ask Metadata about, in order. The broker answers as usual, except that a
 * topic for which `leaderless` says true is answered as during a leader election: each partition
 * without a leader, LEADER_NOT_AVAILABLE (a single broker never elects, so the answer is rewritten).
 */
async function countingWatcher(
  t: import('ava').ExecutionContext,
  metadataMaxAgeMs: number,
  o: { leaderless?: (topic: string) => boolean; settleMs?: number } = {},
) {
  const leaderless = o.leaderless ?? (() => false);
  const env = await topicsWith(3);
  t.teardown(env.close);
  const original = RawKafka.prototype.metadata;
  const asked: string[] = [];
  RawKafka.prototype.metadata = async function (this: RawKafka, topics: readonly string[]): Promise<MetadataResponse['topicMetadata']> {
    asked.push(...topics);
    const answer = await original.call(this, topics);
    return answer.map((m) =>
      leaderless(m.topic) ? { ...m, partitionMetadata: m.partitionMetadata.map((p) => ({ ...p, leader: -1, partitionErrorCode: 5 })) } : m,
    );
  };
  t.teardown(() => void (RawKafka.prototype.metadata = original));
  const watcher = new OffsetWatcher({ kafka: env.kafka, logger, pollMs: 60_000, metadataMaxAgeMs, ...(o.settleMs ? { settleMs: o.settleMs } : {}) });
  t.teardown(() => watcher.stop());
  return { env, asked, watcher };
}

test.serial('leaders are asked once and kept: later polls send ListOffsets only, until the cache ages or a topic is new', async (t) => {
  // Long enough for everything up to the aged poll below on a loaded CI machine.
  const maxAgeMs = 6_000;
  const { env, asked, watcher } = await countingWatcher(t, maxAgeMs);
  const { got, woken } = watchAll(watcher, env.names.slice(0, 2));
  const firstPoll = Date.now();
  for (let i = 0; i < 5; i++) await watcher.poll();
  t.deepEqual(asked.sort(), env.names.slice(0, 2).sort(), 'five polls, one Metadata question per topic');
  // Still read every poll: growth is seen on cached leaders (and fetched from them).
  await env.produce(env.names[0]!, 1);
  await watcher.poll();
  await eventually(() => (got.length ? true : undefined), 5_000, 'the trickle delivered');
  t.deepEqual(got, [`${env.names[0]}/1/0/v0`]);
  t.deepEqual(woken, []);
  // A topic new to the watcher is asked about alone.
  watchAll(watcher, [env.names[2]!]);
  await watcher.poll();
  t.deepEqual(asked.slice(2), [env.names[2]!]);
  t.true(Date.now() - firstPoll < maxAgeMs, 'all of the above within the cache age (else it proves nothing)');
  // Aged: every watched topic is asked again (a delivered trickle leaves its watch in place).
  await new Promise((r) => setTimeout(r, firstPoll + maxAgeMs + 200 - Date.now()));
  await watcher.poll();
  t.deepEqual(asked.slice(3).sort(), [...env.names].sort());
});

test.serial('a topic deleted after its leaders were cached: the stale answer re-asks its metadata, then wakes only its sink', async (t) => {
  const { env, asked, watcher } = await countingWatcher(t, 600_000);
  const woken = new Map<string, string>();
  for (const topic of env.names) watcher.watch(topic, new Map(), { wake: (reason) => woken.set(topic, reason) });
  await watcher.poll();
  t.is(asked.length, 3);
  await env.admin.deleteTopics({ topics: [env.names[1]!] });
  await eventually(async () => {
    await watcher.poll();
    return woken.has(env.names[1]!) ? true : undefined;
  }, 20_000, "the deleted topic's sink woken");
  t.regex(woken.get(env.names[1]!)!, /error code 3/); // UNKNOWN_TOPIC_OR_PARTITION, from its fresh metadata
  t.is(woken.size, 1);
  t.deepEqual(new Set(asked.slice(3)), new Set([env.names[1]!]), 'only the deleted topic was asked again');
});

test.serial('a leadership still settling is asked again every poll and wakes nobody; one unsettled for settleMs wakes its sink', async (t) => {
  // Polls left that answer each topic without leaders: the first settles after two, the second never.
  const settling = new Map<string, number>();
  const settleMs = 4_000;
  const leaderless = (topic: string) => {
    const left = settling.get(topic) ?? 0;
    settling.set(topic, left - 1);
    return left > 0;
  };
  const { env, asked, watcher } = await countingWatcher(t, 600_000, { leaderless, settleMs });
  const [settles, stuck, steady] = env.names as [string, string, string];
  settling.set(settles, 2).set(stuck, Infinity);
  const woken = new Map<string, string>();
  for (const topic of env.names) watcher.watch(topic, new Map(), { wake: (reason) => woken.set(topic, reason) });
  await env.produce(settles, 0);
  const firstPoll = Date.now();
  for (let poll = 1; poll <= 3; poll++) {
    await watcher.poll();
    t.is(woken.has(settles), poll === 3, `poll ${poll}: its growth is seen once its leaders are (third poll)`);
  }
  t.false(woken.has(stuck), `not woken within ${settleMs} ms`);
  t.true(Date.now() - firstPoll < settleMs, 'three polls took less than settleMs (else the line above proves nothing)');
  await new Promise((r) => setTimeout(r, settleMs - (Date.now() - firstPoll) + 200));
  await watcher.poll();
  t.is(woken.get(settles), 'partition 0 has 1 new records');
  t.regex(woken.get(stuck) ?? 'not woken', /^partition [01] error code 5$/, `woken once unsettled for ${settleMs} ms`);
  t.is(asked.filter((a) => a === stuck).length, 4, 'asked again every poll until then');
  t.is(asked.filter((a) => a === steady).length, 1, 'a settled topic is not asked again');
  await env.produce(steady, 1);
  await watcher.poll();
  t.is(woken.get(steady), 'partition 1 has 1 new records', 'the others are still read');
});

test('topics just created (their leaders may not know it yet): the first polls wake nobody', async (t) => {
  // Polls back to back: a leader that is still settling is asked again (for `settleMs`), not concluded on.
  const env = await topicsWith(20, 2, false);
  t.teardown(env.close);
  // A settling window longer than the default: 20 fresh topics beside the file's others on a loaded machine.
  const watcher = new OffsetWatcher({ kafka: env.kafka, logger, pollMs: 60_000, settleMs: 15_000 });
  t.teardown(() => watcher.stop());
  const { got, woken } = watchAll(watcher, env.names);
  for (let i = 0; i < 3; i++) await watcher.poll();
  t.deepEqual(woken, []);
  await env.produce(env.names[3]!, 1);
  // Polled as the timer would: a partition still settling is read once its leader knows it leads.
  await eventually(async () => {
    await watcher.poll();
    return got.length ? true : undefined;
  }, 20_000, 'the trickle delivered');
  t.deepEqual(got, [`${env.names[3]}/1/0/v0`], 'then read as usual');
  t.deepEqual(woken, []);
});

test('brokers unreachable past wakeAllAfterMs: every parked sink is woken to fall back to consuming', async (t) => {
  const dead = new Kafka({ clientId: 'ow-dead', brokers: ['127.0.0.1:1'], connectionTimeout: 200, retry: { retries: 0 }, logLevel: logLevel.NOTHING });
  const watcher = new OffsetWatcher({ kafka: dead, logger, pollMs: 60_000, wakeAllAfterMs: 300 });
  t.teardown(() => watcher.stop());
  const woken: string[] = [];
  watcher.watch('a', new Map(), { wake: (r) => woken.push(`a: ${r}`) });
  watcher.watch('b', new Map(), { wake: (r) => woken.push(`b: ${r}`) });
  await watcher.poll();
  t.deepEqual(woken, [], 'one failure wakes nobody');
  await new Promise((r) => setTimeout(r, 350));
  await watcher.poll();
  t.is(woken.length, 2);
  t.regex(woken[0]!, /end offsets unreadable/);
});
