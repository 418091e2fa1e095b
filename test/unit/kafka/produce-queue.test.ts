// The produce queue's own logic, without a broker: one request in flight, batches that wait are
// coalesced into the next request (bounded by bytes, and per topic by what one partition's record
// batch may hold), a refusal rejects exactly the batches of that request, a producer whose state
// the broker refuses is replaced, and a request left unanswered is reported while it waits.
import test from 'ava';
import type { Producer, ProducerBatch } from 'kafkajs';
import { isProducerStateError, ProduceQueue, recordBytes } from '../../../src/kafka/produce-queue.js';

/** A producer whose requests the test answers one by one. */
function scriptedProducer(requests: { batch: ProducerBatch; answer: (err?: Error) => void; by: number }[] = [], id = 0) {
  const calls = { connect: 0, disconnect: 0 };
  const producer = {
    connect: async () => void (calls.connect += 1),
    disconnect: async () => void (calls.disconnect += 1),
    sendBatch: (batch: ProducerBatch) =>
      new Promise((resolve, reject) => requests.push({ batch, by: id, answer: (err) => (err ? reject(err) : resolve([])) })),
  } as unknown as Producer;
  return { producer, requests, calls };
}

const tick = () => new Promise((r) => setImmediate(r));
const msgs = (n: number, bytes = 10) => Array.from({ length: n }, () => ({ value: Buffer.alloc(bytes) }));

test('one request at a time; what waits meanwhile goes out together in the next one', async (t) => {
  const { producer, requests } = scriptedProducer();
  const q = new ProduceQueue(producer);
  const a = q.send('t1', msgs(2));
  await tick();
  const b = q.send('t1', msgs(3));
  const c = q.send('t2', msgs(1));
  await tick();
  t.is(requests.length, 1, 'the second request waits for the first answer');
  t.is(q.waiting, 2);
  requests[0]!.answer();
  await a;
  await tick();
  t.is(requests.length, 2);
  const second = requests[1]!.batch.topicMessages!;
  t.deepEqual(second.map((tm) => [tm.topic, tm.messages.length]), [['t1', 3], ['t2', 1]]);
  t.is(requests[1]!.batch.acks, -1);
  requests[1]!.answer();
  await Promise.all([b, c]);
});

test('a refused request rejects its own batches only; the next request still goes out', async (t) => {
  const { producer, requests } = scriptedProducer();
  t.is(recordBytes(msgs(1)[0]!), 40, '10 value bytes and at most 30 of framing');
  const q = new ProduceQueue(producer, { maxRequestBytes: 100 });
  const a = q.send('t', msgs(2)); // 80 bytes
  const b = q.send('t', msgs(1)); // would make 120 > 100: next request
  await tick();
  requests[0]!.answer(new Error('NOT_LEADER'));
  await t.throwsAsync(a, { message: 'NOT_LEADER' });
  await tick();
  t.is(requests.length, 2);
  requests[1]!.answer();
  await t.notThrowsAsync(b);
});

test('a request left unanswered is reported every slowAfterMs until it is answered', async (t) => {
  const { producer, requests } = scriptedProducer();
  const seen: { records: number; topics: string[]; waitingMs: number; queued: number }[] = [];
  const q = new ProduceQueue(producer, { slowAfterMs: 40, onSlow: (i) => seen.push(i) });
  const a = q.send('t', msgs(4));
  await tick();
  void q.send('u', msgs(1));
  for (let i = 0; i < 200 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  t.true(seen.length >= 2, `${seen.length} reports`);
  t.like(seen[0], { records: 4, topics: ['t'], queued: 1 });
  t.true(seen[1]!.waitingMs > seen[0]!.waitingMs);
  requests[0]!.answer();
  await a;
  const after = seen.length;
  await new Promise((r) => setTimeout(r, 100));
  // The second request is outstanding now and reported on its own; the first is no longer.
  t.true(seen.slice(after).every((i) => i.topics[0] === 'u'));
  requests[1]?.answer();
});

const answerAll = async (requests: { answer: (err?: Error) => void }[], from: number) => {
  for (let i = 0; i < 50; i++) {
    await tick();
    while (from < requests.length) requests[from++]!.answer();
  }
};

test('one topic never gets more than one partition\'s record batch in a request; its batches keep their order', async (t) => {
  const { producer, requests } = scriptedProducer();
  // 100 bytes of records per topic and request (61 more for the record batch header).
  const q = new ProduceQueue(producer, { maxPartitionBytes: 161 });
  const blocker = q.send('x', msgs(1));
  await tick();
  const a = q.send('t', msgs(5)); // 5 × 40 bytes: split into 2 + 2 + 1
  const u = q.send('u', msgs(1));
  const b = q.send('t', msgs(1));
  await tick();
  requests[0]!.answer();
  await blocker;
  await answerAll(requests, 1);
  await Promise.all([a, u, b]);
  const sent = requests.slice(1).map((r) => r.batch.topicMessages!.map((tm) => `${tm.topic}:${tm.messages.length}`).join(' '));
  // The first request takes t's first piece and u's batch; t's other pieces wait their turn.
  t.deepEqual(sent, ['t:2 u:1', 't:2', 't:2']);
  for (const r of requests) for (const tm of r.batch.topicMessages!) t.true(tm.messages.reduce((n, m) => n + recordBytes(m), 0) <= 100);
});

test('a record too large for any record batch goes alone, so its refusal touches no other batch', async (t) => {
  const { producer, requests } = scriptedProducer();
  const q = new ProduceQueue(producer, { maxPartitionBytes: 161 });
  const blocker = q.send('x', msgs(1));
  await tick();
  const small = q.send('u', msgs(1));
  const huge = q.send('t', msgs(1, 500));
  const after = q.send('v', msgs(1));
  await tick();
  requests[0]!.answer();
  await blocker;
  await tick();
  t.deepEqual(requests[1]!.batch.topicMessages!.map((tm) => tm.topic), ['u']);
  requests[1]!.answer();
  await small;
  await tick();
  t.deepEqual(requests[2]!.batch.topicMessages!.map((tm) => tm.topic), ['t']);
  requests[2]!.answer(new Error('MESSAGE_TOO_LARGE'));
  await t.throwsAsync(huge, { message: 'MESSAGE_TOO_LARGE' });
  await tick();
  t.deepEqual(requests[3]!.batch.topicMessages!.map((tm) => tm.topic), ['v']);
  requests[3]!.answer();
  await after;
});

function protocolError(type: string): Error {
  return Object.assign(new Error(`broker says ${type}`), { type });
}

test('a producer whose sequence numbers the broker refuses is replaced and the request sent again by the new one', async (t) => {
  const requests: { batch: ProducerBatch; answer: (err?: Error) => void; by: number }[] = [];
  const made: ReturnType<typeof scriptedProducer>[] = [];
  const reasons: string[] = [];
  const q = new ProduceQueue(
    () => {
      const p = scriptedProducer(requests, made.length);
      made.push(p);
      return p.producer;
    },
    { onReplace: (r) => reasons.push(r) },
  );
  await q.connect();
  const a = q.send('t', msgs(3));
  await tick();
  requests[0]!.answer(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'));
  for (let i = 0; i < 10 && requests.length < 2; i++) await tick();
  t.is(made.length, 2);
  t.is(made[0]!.calls.disconnect, 1, 'the old producer is closed');
  t.is(made[1]!.calls.connect, 1, 'the new one connected before sending');
  t.is(requests[1]!.by, 1);
  t.is(requests[1]!.batch.topicMessages![0]!.messages.length, 3, 'the same records, again');
  requests[1]!.answer();
  await a;
  t.deepEqual(reasons, ['broker says OUT_OF_ORDER_SEQUENCE_NUMBER']);

  // Any other refusal goes to the callers, with the producer kept.
  const b = q.send('t', msgs(1));
  await tick();
  requests[2]!.answer(protocolError('NOT_LEADER_OR_FOLLOWER'));
  await t.throwsAsync(b, { message: /NOT_LEADER/ });
  t.is(made.length, 2);
});

test('producer-state errors are the ones a new producer id cures', (t) => {
  for (const type of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']) t.true(isProducerStateError(protocolError(type)), type);
  for (const bad of [protocolError('MESSAGE_TOO_LARGE'), new Error('OUT_OF_ORDER_SEQUENCE_NUMBER'), null, undefined, 'x', { type: 45 }]) t.false(isProducerStateError(bad));
});
