// The pure request builder: framing byte for byte, gzip, headers, and HMAC a receiver can verify.
import test from 'ava';
import fc from 'fast-check';
import { createHash, createHmac } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { buildWebhookRequest, correlationIds, encodePayload, maxCorrelationIds, signPayload, verifySignature } from '../../../../src/sinks/webhook/request-builder.js';
import { makeRecords } from '../../../helpers/sink-compliance.js';

const base = { format: 'ndjson' as const, gzip: false, integrationId: 'int-1', timestamp: 1_714_564_800 };

test('NDJSON carries each event value byte for byte, one per line', async (t) => {
  const records = makeRecords(3);
  const { body, headers } = await buildWebhookRequest(records, base);
  t.is(body.toString(), records.map((r) => r.value.toString() + '\n').join(''));
  t.is(headers['content-type'], 'application/x-ndjson');
  t.is(headers['x-tributary-event-count'], '3');
  t.is(headers['x-tributary-integration'], 'int-1');
  t.is(headers['x-tributary-correlation-id'], records[0]!.correlationId);
  t.is(headers['x-tributary-signature'], undefined);
});

test('big integers survive: values are never re-serialised', async (t) => {
  const [r] = makeRecords(1);
  r!.value = Buffer.from('{"id":"a","n":123456789012345678901234567890}');
  const { body } = await buildWebhookRequest([r!], { ...base, format: 'json-array' });
  t.is(body.toString(), '[{"id":"a","n":123456789012345678901234567890}]');
});

test('a JSON array parses back to the same events, for any batch size', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 40 }), fc.boolean(), async (n, gzip) => {
      const records = makeRecords(n);
      const { body, headers } = await buildWebhookRequest(records, { ...base, format: 'json-array', gzip });
      const text = (gzip ? gunzipSync(body) : body).toString();
      const ids = (JSON.parse(text) as { id: string }[]).map((e) => e.id);
      return JSON.stringify(ids) === JSON.stringify(records.map((r) => r.eventId)) && headers['content-type'] === 'application/json' && (headers['content-encoding'] === 'gzip') === gzip;
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('raw newlines inside a value (whitespace between tokens) cannot break NDJSON framing', (t) => {
  const [r] = makeRecords(1);
  r!.value = Buffer.from('{"id":"x",\n"a":\r\n1}');
  const lines = encodePayload([r!], 'ndjson').toString().split('\n').filter(Boolean);
  t.is(lines.length, 1);
  t.deepEqual(JSON.parse(lines[0]!), { id: 'x', a: 1 });
});

test('the signature is HMAC-SHA256 over "<timestamp>.<uncompressed body>" and verifies independently', async (t) => {
  const records = makeRecords(4);
  const built = await buildWebhookRequest(records, { ...base, gzip: true, signingSecret: 'whsec' });
  const ts = built.headers['x-tributary-timestamp']!;
  t.is(ts, String(base.timestamp));
  const payload = gunzipSync(built.body);
  const expected = 'v1=' + createHmac('sha256', 'whsec').update(`${ts}.${payload.toString()}`).digest('hex');
  t.is(built.headers['x-tributary-signature'], expected);
  t.true(verifySignature('whsec', payload, ts, expected, { nowSeconds: base.timestamp + 10 }));
  t.false(verifySignature('other', payload, ts, expected, { nowSeconds: base.timestamp }), 'wrong secret');
  t.false(verifySignature('whsec', Buffer.concat([payload, Buffer.from('x')]), ts, expected, { nowSeconds: base.timestamp }), 'tampered body');
  t.false(verifySignature('whsec', payload, ts, expected, { nowSeconds: base.timestamp + 301 }), 'stale: replay window');
  t.true(verifySignature('whsec', payload, ts, `v1=deadbeef, ${expected}`, { nowSeconds: base.timestamp }), 'rotation: any listed signature');
});

test('signatures differ with the timestamp', (t) => {
  const p = Buffer.from('{}\n');
  t.not(signPayload('k', 1, p), signPayload('k', 2, p));
});

test('correlation ids are distinct, in order, and bounded', (t) => {
  const records = Array.from({ length: 30 }, (_, i) => makeRecords(2)).flat();
  const ids = correlationIds(records);
  t.is(ids.length, maxCorrelationIds);
  t.is(new Set(ids).size, ids.length);
  t.is(ids[0], records[0]!.correlationId);
});

test('the batch id is stable for the same events and differs for others', async (t) => {
  const records = makeRecords(5);
  const a = await buildWebhookRequest(records, base);
  const b = await buildWebhookRequest(records, { ...base, timestamp: 1 });
  const c = await buildWebhookRequest(records.slice(1), base);
  t.is(a.headers['x-tributary-batch-id'], b.headers['x-tributary-batch-id']);
  t.not(a.headers['x-tributary-batch-id'], c.headers['x-tributary-batch-id']);
});

test('the batch id is the first 32 hex digits of SHA-256 over the ids, each followed by LF (what earlier versions sent for a re-sent chunk)', async (t) => {
  const records = makeRecords(4);
  records[1]!.eventId = 'ünïcødé-id';
  const { headers } = await buildWebhookRequest(records, base);
  const h = createHash('sha256');
  for (const r of records) h.update(r.eventId).update('\n');
  t.is(headers['x-tributary-batch-id'], h.digest('hex').slice(0, 32));
});

test('static and auth headers are merged under Tributary\'s own', async (t) => {
  const { headers } = await buildWebhookRequest(makeRecords(1), { ...base, baseHeaders: { 'x-team': 'a', authorization: 'Bearer t' } });
  t.is(headers['x-team'], 'a');
  t.is(headers.authorization, 'Bearer t');
});
