// The kafkajs fixes, on kafkajs's own RequestQueue class (no broker needed: the queue only
// schedules and sends through the callbacks it is given).
import test from 'ava';
import { applyKafkajsFixes, kafkajsRequestQueue } from '../../../src/kafka/kafkajs-fixes.js';

type Entry = { correlationId: number; resolve: (v: unknown) => void; reject: (e: unknown) => void };
const entry = (correlationId: number): Entry => ({ correlationId, resolve: () => undefined, reject: () => undefined });

type Queue = {
  pending: unknown[];
  inflight: Map<number, unknown>;
  throttledUntil: number;
  throttleCheckTimeoutId: unknown;
  push(r: { entry: Entry; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(r: { correlationId: number; payload: Buffer | null; size: number }): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
};

const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
function queue(maxInFlightRequests: number | null = null): Queue {
  const RequestQueue = kafkajsRequestQueue() as unknown as new (o: object) => Queue;
  return new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:1', logger });
}
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

applyKafkajsFixes();

test('an idle connection arms no timer after a response (kafkajs armed a 1 ms timer that re-armed itself forever)', async (t) => {
  const q = queue();
  t.teardown(() => q.destroy());
  let sent = 0;
  q.push({ entry: entry(1), expectResponse: true, sendRequest: () => void (sent += 1) });
  t.is(sent, 1);
  q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  t.is(q.throttleCheckTimeoutId, null, 'nothing waits, nothing scheduled');
  await wait(20);
  t.is(q.throttleCheckTimeoutId, null);
});

test('a request that waits for a throttle to end is still sent when it ends', async (t) => {
  const q = queue();
  t.teardown(() => q.destroy());
  q.maybeThrottle(60);
  let sentAt = 0;
  const from = Date.now();
  q.push({ entry: entry(7), expectResponse: true, sendRequest: () => void (sentAt = Date.now()) });
  t.is(sentAt, 0, 'throttled: queued');
  t.not(q.throttleCheckTimeoutId, null);
  await wait(150);
  t.true(sentAt - from >= 55, `sent after ${sentAt - from} ms`);
  t.is(q.pending.length, 0);
});

test('a request queued behind the in-flight limit goes out when the response frees a slot; then no timer stays armed', async (t) => {
  const q = queue(1);
  t.teardown(() => q.destroy());
  const sent: number[] = [];
  q.push({ entry: entry(1), expectResponse: true, sendRequest: () => void sent.push(1) });
  q.push({ entry: entry(2), expectResponse: true, sendRequest: () => void sent.push(2) });
  t.deepEqual(sent, [1]);
  q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
  t.deepEqual(sent, [1, 2]);
  q.fulfillRequest({ correlationId: 2, payload: null, size: 0 });
  await wait(30); // the check armed while request 2 waited fires once, finds nothing, re-arms nothing
  t.is(q.throttleCheckTimeoutId, null);
});
