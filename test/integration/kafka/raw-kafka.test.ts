// The sources' watermark read against the real broker: plain Metadata / ListOffsets / Fetch on
// shared connections return each partition's last record, skip empty and fully-deleted
// partitions, and name the topic in a clear error when it does not exist.
import test from 'ava';
import { createRequire } from 'node:module';
import { ensureTopic } from '../../../src/kafka/kafka.js';
import { RawKafka } from '../../../src/kafka/raw-kafka.js';
import { retryLookup, watermarkInKafka } from '../../../src/kafka/tail-reader.js';
import { eventually, testKafka, uniq } from '../../helpers/infra.js';

const wm = 'tributary-watermark';

async function env(t: { teardown(fn: () => Promise<void>): void }) {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  // Idempotent: a send retried on a topic just created (NOT_LEADER) never writes a record twice,
  // and these tests count records and offsets exactly.
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const raw = new RawKafka(kafka);
  t.teardown(async () => {
    await raw.reset();
    await producer.disconnect();
    await admin.disconnect();
  });
  const topic = async (partitions = 3) => {
    const name = uniq('raw');
    await ensureTopic(admin, { topic: name, partitions, retentionMs: 3_600_000 });
    return name;
  };
  return { admin, producer, raw, topic };
}

test('the last record of each non-empty partition, and the highest watermark among them', async (t) => {
  const e = await env(t);
  const topic = await e.topic();
  // A topic just created may answer NOT_LEADER for a moment: callers retry, as the source does.
  t.deepEqual([...(await retryLookup(() => e.raw.lastRecords(topic)))], [], 'an empty topic has no last records');
  t.is(await watermarkInKafka(e.raw, topic, wm), undefined);
  // Partition 0: one batch of three records, watermarks 5, 9, 8 (the last one counts, not the largest).
  await e.producer.send({ topic, messages: [5, 9, 8].map((w, i) => ({ partition: 0, value: `p0-${i}`, headers: { [wm]: String(w) } })) });
  // Partition 2: two batches; the last record's watermark is 7.
  await e.producer.send({ topic, messages: [{ partition: 2, value: 'p2-0', headers: { [wm]: '3' } }] });
  await e.producer.send({ topic, messages: [{ partition: 2, value: 'p2-1', headers: { [wm]: '7' } }] });
  const last = await e.raw.lastRecords(topic);
  t.deepEqual([...last].map(([p, m]) => [p, m.offset, m.value?.toString()]).sort(), [[0, '2', 'p0-2'], [2, '1', 'p2-1']]);
  t.is(await watermarkInKafka(e.raw, topic, wm), '8');
  // A last record without a usable watermark is skipped, not read as zero.
  await e.producer.send({ topic, messages: [{ partition: 0, value: 'p0-3', headers: { [wm]: 'soon' } }] });
  t.is(await watermarkInKafka(e.raw, topic, wm), '7');
});

test('a partition whose records retention deleted counts as empty', async (t) => {
  const e = await env(t);
  const topic = await e.topic(2);
  await e.producer.send({ topic, messages: [{ partition: 0, value: 'a', headers: { [wm]: '11' } }, { partition: 1, value: 'b', headers: { [wm]: '12' } }] });
  t.is(await retryLookup(() => watermarkInKafka(e.raw, topic, wm)), '12');
  await e.admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '-1' }] });
  t.is(await watermarkInKafka(e.raw, topic, wm), '11');
});

const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

// Serial (ava runs these first, alone): the socket count before and after is this test's own.
test.serial('many topics read at once on the shared connections, no socket left open after; a missing topic is a clear error', async (t) => {
  const before = sockets();
  const e = await env(t);
  const names = await Promise.all(Array.from({ length: 20 }, () => e.topic(2)));
  await Promise.all(names.map((topic, i) => e.producer.send({ topic, messages: [{ partition: i % 2, value: 'x', headers: { [wm]: String(100 + i) } }] })));
  t.deepEqual(await Promise.all(names.map((topic) => retryLookup(() => watermarkInKafka(e.raw, topic, wm)))), names.map((_, i) => String(100 + i)));
  const missing = uniq('raw-missing');
  await t.throwsAsync(() => e.raw.lastRecords(missing), { message: new RegExp(`metadata of ${missing}: error code 3`) });
  t.is(await watermarkInKafka(e.raw, names[0]!, wm), '100', 'the shared connections still serve the others');
  // kafkajs opens a socket per concurrent first use of a connection: RawKafka must not.
  await e.raw.reset();
  await e.producer.disconnect();
  await e.admin.disconnect();
  // Closed once the broker's FIN is in: polled, not a fixed wait.
  await eventually(() => (sockets() === before ? true : undefined), 10_000, 'every socket closed').catch(() => undefined);
  t.is(sockets(), before, 'every socket closed');
});

test('a group\'s positions: committed offsets where it committed, each partition\'s log start and end', async (t) => {
  const e = await env(t);
  const topic = await e.topic(3);
  const groupId = uniq('raw-group');
  await e.producer.send({ topic, messages: [0, 0, 0, 1].map((partition, i) => ({ partition, value: `v${i}` })) });
  const fresh = await retryLookup(() => e.raw.groupPositions(groupId, topic));
  t.deepEqual([...fresh.committed], [], 'a group that never committed has no positions');
  t.deepEqual(fresh.offsets, [
    { partition: 0, low: '0', high: '3' },
    { partition: 1, low: '0', high: '1' },
    { partition: 2, low: '0', high: '0' },
  ]);
  await e.admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }] });
  await e.admin.deleteTopicRecords({ topic, partitions: [{ partition: 1, offset: '-1' }] });
  const later = await e.raw.groupPositions(groupId, topic);
  t.deepEqual([...later.committed], [[0, 2n]]);
  t.deepEqual(later.offsets[1], { partition: 1, low: '1', high: '1' });
  await t.throwsAsync(() => e.raw.groupPositions(groupId, uniq('raw-missing')), { message: /error code 3/ });
});

test('the health probe\'s Metadata names no topic: the brokers come back, no topic does, however many the cluster holds', async (t) => {
  const { raw, topic } = await env(t);
  await topic(1);
  const md = await raw.brokersOnly();
  t.true(md.brokers.length >= 1);
  t.true(md.brokers.every((b) => Number.isInteger(b.nodeId)));
  t.is(md.topicMetadata.length, 0);
  // After a reset (what a connection failure causes) it reconnects and asks the same.
  await raw.reset();
  t.is((await raw.brokersOnly()).topicMetadata.length, 0);
});

test.serial("a group's coordinator is found once and reused; forgotten only when it moved or its connection broke", async (t) => {
  const e = await env(t);
  const topic = await e.topic(1);
  // kafkajs's Cluster sends a FindCoordinator request per lookup: count the lookups it is asked for.
  const require = createRequire(import.meta.url);
  const Cluster = require('kafkajs/src/cluster/index.js') as { prototype: { findGroupCoordinator(o: { groupId: string }): Promise<unknown> } };
  const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error };
  const original = Cluster.prototype.findGroupCoordinator;
  const lookups: string[] = [];
  Cluster.prototype.findGroupCoordinator = function (this: unknown, o: { groupId: string }) {
    lookups.push(o.groupId);
    return original.call(this, o);
  };
  t.teardown(() => void (Cluster.prototype.findGroupCoordinator = original));
  const group = uniq('raw-coord');
  const commit = async (offset: string) => {
    const c = await e.raw.groupCoordinator(group);
    await c.offsetCommit({ groupId: group, groupGenerationId: -1, memberId: '', topics: [{ topic, partitions: [{ partition: 0, offset }] }] });
  };
  for (let i = 1; i <= 5; i++) await commit(String(i));
  t.deepEqual(lookups, [group], 'five commits, one lookup');
  t.is((await e.raw.groupPositions(group, topic)).committed.get(0), 5n, 'the commits reached the coordinator');
  // An answer that is not about the coordinator (here UNKNOWN_MEMBER_ID) keeps it.
  e.raw.forgetCoordinator(group, createErrorFromCode(25));
  await commit('6');
  t.is(lookups.length, 1);
  // NOT_COORDINATOR: found again on the next use.
  e.raw.forgetCoordinator(group, createErrorFromCode(16));
  await commit('7');
  t.is(lookups.length, 2);
  // A reset (new connections) forgets every coordinator.
  await e.raw.reset();
  await commit('8');
  t.is(lookups.length, 3);
  t.is((await e.raw.groupPositions(group, topic)).committed.get(0), 8n);
});
