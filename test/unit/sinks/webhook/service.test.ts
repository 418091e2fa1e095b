// Split (413) and bisect (400/422) over arbitrary batches and poison sets, with an in-memory
// transport that behaves like a strict receiver: exact outcomes, order kept, nothing twice.
import test from 'ava';
import fc from 'fast-check';
import { classify } from '../../../../src/errors.js';
import type { Clock } from '../../../../src/sinks/http/backoff.js';
import type { HttpRequest, HttpResponse, HttpTransport } from '../../../../src/sinks/http/transport.js';
import { validateWebhookConfig } from '../../../../src/sinks/webhook/config.js';
import { createWebhookSink } from '../../../../src/sinks/webhook/service.js';
import { makeRecords, testSinkContext } from '../../../helpers/sink-compliance.js';

interface Strict extends HttpTransport {
  delivered: string[];
  requests: number;
}

function strictReceiver(rule: { poison?: Set<string>; maxBytes?: number; status?: () => number | undefined }): Strict {
  const rx: Strict = {
    delivered: [],
    requests: 0,
    async send(req: HttpRequest): Promise<HttpResponse> {
      rx.requests++;
      const forced = rule.status?.();
      if (forced !== undefined) return { status: forced, headers: {}, body: '' };
      const body = req.body ?? Buffer.alloc(0);
      if (rule.maxBytes !== undefined && body.length > rule.maxBytes) return { status: 413, headers: {}, body: 'too large' };
      const ids = body.toString().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
      const bad = ids.filter((id) => rule.poison?.has(id));
      if (bad.length) return { status: 400, headers: {}, body: JSON.stringify({ rejected: bad }) };
      rx.delivered.push(...ids);
      return { status: 200, headers: {}, body: '' };
    },
    async close() {},
  };
  return rx;
}

const clock = (): Clock => {
  let now = 0;
  return { now: () => now, sleep: async (ms) => void (now += ms) };
};

const config = (extra: object = {}) => validateWebhookConfig({ type: 'webhook', url: 'https://hooks.example.com/in', ...extra }, { local: false });
const never = new AbortController().signal;

test('400 bisection: exactly the poison records are rejected, the rest delivered once, in order', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 60 }).chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.nat(n - 1), { maxLength: Math.min(n, 8) }))), async ([n, poisonIdx]) => {
      const batch = makeRecords(n);
      const poison = new Set(poisonIdx.map((i) => batch[i]!.eventId));
      const rx = strictReceiver({ poison });
      const sink = await createWebhookSink(config(), testSinkContext(), { transport: rx, clock: clock() });
      const result = await sink.write(batch, never);
      const expectDelivered = batch.filter((r) => !poison.has(r.eventId)).map((r) => r.eventId);
      const ok =
        result.outcomes.length === n &&
        result.outcomes.every((o, i) => (poison.has(batch[i]!.eventId) ? o.status === 'rejected' && o.httpStatus === 400 && o.error.kind === 'permanent' : o.status === 'delivered')) &&
        JSON.stringify(rx.delivered) === JSON.stringify(expectDelivered) &&
        result.requests === rx.requests &&
        // k poison records cost at most ~2k·log2(n) + 1 requests.
        rx.requests <= 1 + 2 * poison.size * Math.ceil(Math.log2(n) + 1);
      return ok;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test('413 splitting: everything under the limit is delivered in order; oversize singles are rejected', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 1, maxLength: 30 }), async (pads) => {
      const batch = pads.map((p, i) => makeRecords(1, { padBytes: p, startOffset: i })[0]!);
      const maxBytes = 1200;
      const rx = strictReceiver({ maxBytes });
      const sink = await createWebhookSink(config(), testSinkContext(), { transport: rx, clock: clock() });
      const result = await sink.write(batch, never);
      const fits = (i: number): boolean => batch[i]!.value.length + 1 <= maxBytes;
      return (
        result.outcomes.every((o, i) => (fits(i) ? o.status === 'delivered' : o.status === 'rejected' && o.httpStatus === 413 && o.error.code === 'sink_too_large')) &&
        JSON.stringify(rx.delivered) === JSON.stringify(batch.filter((_, i) => fits(i)).map((r) => r.eventId))
      );
    }),
    { numRuns: 150 },
  );
  t.pass();
});

test('a batch above maxBatchBytes is split before sending', async (t) => {
  const batch = makeRecords(10, { padBytes: 400 });
  const rx = strictReceiver({});
  const sink = await createWebhookSink(config({ maxBatchBytes: 2048 }), testSinkContext(), { transport: rx, clock: clock() });
  const result = await sink.write(batch, never);
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.true(rx.requests >= 4);
  t.deepEqual(rx.delivered, batch.map((r) => r.eventId));
});

test('a misconfiguration during bisection throws: nothing is reported delivered', async (t) => {
  const batch = makeRecords(8);
  let n = 0;
  const rx = strictReceiver({ status: () => (++n === 1 ? 400 : n === 2 ? 200 : 401) });
  const sink = await createWebhookSink(config(), testSinkContext(), { transport: rx, clock: clock() });
  const err = await t.throwsAsync(sink.write(batch, never));
  t.is(classify(err), 'misconfiguration');
});

test('retries are counted and exhaustion rejects every record with the budget error', async (t) => {
  const rx = strictReceiver({ status: () => 503 });
  const sink = await createWebhookSink(config({ retry: { maxRetryAgeMs: 60_000 } }), testSinkContext(), { transport: rx, clock: clock(), random: () => 0.5 });
  const result = await sink.write(makeRecords(3), never);
  t.true(result.retries > 0);
  t.is(result.requests, result.retries + 1);
  t.true(result.outcomes.every((o) => o.status === 'rejected' && o.error.code === 'sink_retries_exhausted' && o.attempts === result.requests));
});

test('secrets are resolved at build; an unresolvable reference is a misconfiguration', async (t) => {
  const err = await t.throwsAsync(
    createWebhookSink(config({ auth: { type: 'bearer', token: { ref: 'env:TRIBUTARY_TEST_SURELY_UNSET' } } }), testSinkContext(), { transport: strictReceiver({}) }),
  );
  t.is(classify(err), 'misconfiguration');
});

test('bearer, basic and header auth produce the right header', async (t) => {
  const seen: Record<string, string>[] = [];
  const transport: HttpTransport = {
    async send(req) {
      seen.push({ ...req.headers });
      return { status: 200, headers: {}, body: '' };
    },
    async close() {},
  };
  const ctx = testSinkContext({ resolveSecret: async () => 's3' });
  for (const auth of [{ type: 'bearer', token: { ref: 'env:X' } }, { type: 'basic', username: 'u', password: { ref: 'env:X' } }, { type: 'header', name: 'X-Api-Key', value: { ref: 'env:X' } }]) {
    const sink = await createWebhookSink(config({ auth }), ctx, { transport });
    await sink.write(makeRecords(1), never);
  }
  t.is(seen[0]!.authorization, 'Bearer s3');
  t.is(seen[1]!.authorization, `Basic ${Buffer.from('u:s3').toString('base64')}`);
  t.is(seen[2]!['x-api-key'], 's3');
});
