// The produce queue's own logic, without a broker: one request in flight, batches that wait are
// coalesced into the next request (bounded by bytes), a refusal rejects exactly the batches of
// that request, and a request left unanswered is reported while it waits.
import test from 'ava';
import type { Producer, ProducerBatch } from 'kafkajs';
import { ProduceQueue } from '../../../src/kafka/produce-queue.js';

/** A producer whose requests the test answers one by one. */
function scriptedProducer() {
  const requests: { batch: ProducerBatch; answer: (err?: Error) => void }[] = [];
  const producer = {
    sendBatch: (batch: ProducerBatch) =>
      new Promise((resolve, reject) => requests.push({ batch, answer: (err) => (err ? reject(err) : resolve([])) })),
  } as unknown as Producer;
  return { producer, requests };
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
  const q = new ProduceQueue(producer, { maxRequestBytes: 25 });
  const a = q.send('t', msgs(2)); // 20 bytes
  const b = q.send('t', msgs(1)); // would make 30 > 25: next request
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
