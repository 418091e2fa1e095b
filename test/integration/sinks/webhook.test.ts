// The webhook sink against a real HTTP receiver on loopback: the shared compliance suite in
// two shapes (plain NDJSON; gzip + JSON array + HMAC + bearer), plus SSRF at connect time.
import test from 'ava';
import { classify, TributaryError } from '../../../src/errors.js';
import { createWebhookSink } from '../../../src/sinks/webhook/service.js';
import { validateWebhookConfig } from '../../../src/sinks/webhook/config.js';
import { startHttpReceiver } from '../../helpers/http-receiver.js';
import { httpSinkCompliance, makeRecords, testSinkContext } from '../../helpers/sink-compliance.js';

const fastRetry = { initialMs: 5, maxMs: 50, maxRetryAgeMs: 60_000 };

httpSinkCompliance(test, 'webhook', (receiver) =>
  createWebhookSink(validateWebhookConfig({ type: 'webhook', url: receiver.url, timeoutMs: 5_000, retry: fastRetry }, { local: true }), testSinkContext()),
);

httpSinkCompliance(
  test,
  'webhook (gzip, json-array, signed, bearer)',
  (receiver) =>
    createWebhookSink(
      validateWebhookConfig(
        {
          type: 'webhook',
          url: receiver.url,
          format: 'json-array',
          gzip: true,
          auth: { type: 'bearer', token: { value: 'tok-123' } },
          signing: { secret: { value: 'hmac-key' } },
          headers: { 'X-Customer': 'acme' },
          timeoutMs: 5_000,
          retry: fastRetry,
        },
        { local: true },
      ),
      testSinkContext(),
    ),
  { signingSecret: 'hmac-key', expectAuthorization: 'Bearer tok-123' },
);

test('webhook: requests carry integration, correlation, count and batch headers and a valid signature', async (t) => {
  const rx = await startHttpReceiver({ signingSecret: 's3cret' });
  t.teardown(() => rx.close());
  const sink = await createWebhookSink(
    validateWebhookConfig({ type: 'webhook', url: rx.url, signing: { secret: { value: 's3cret' } }, retry: fastRetry }, { local: true }),
    testSinkContext({ integrationId: 'int-42' }),
  );
  t.teardown(() => sink.close());
  const batch = makeRecords(3);
  const result = await sink.write(batch, new AbortController().signal);
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.is(result.requests, 1);
  t.true((result.bytesSent ?? 0) > 0);
  const req = rx.requests[0]!;
  t.is(req.signature, 'valid');
  t.is(req.headers['x-tributary-integration'], 'int-42');
  t.is(req.headers['x-tributary-correlation-id'], batch[0]!.correlationId);
  t.is(req.headers['x-tributary-event-count'], '3');
  t.is(req.headers['content-type'], 'application/x-ndjson');
  t.regex(String(req.headers['x-tributary-batch-id']), /^[0-9a-f]{32}$/);
  t.deepEqual(req.eventIds, batch.map((r) => r.eventId), 'order kept');
});

test('webhook: a stale signature timestamp is not reused across retries', async (t) => {
  // The receiver refuses signatures older than 1 s; the first answer is a 503 with Retry-After 2.
  const rx = await startHttpReceiver({ signingSecret: 'k', signatureToleranceSeconds: 1 });
  t.teardown(() => rx.close());
  const sink = await createWebhookSink(
    validateWebhookConfig({ type: 'webhook', url: rx.url, signing: { secret: { value: 'k' } }, retry: fastRetry }, { local: true }),
    testSinkContext(),
  );
  t.teardown(() => sink.close());
  rx.failNext(503, 1, { headers: { 'retry-after': '2' } });
  const result = await sink.write(makeRecords(2), new AbortController().signal);
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.is(rx.requests[1]!.signature, 'valid');
});

test('webhook: 422 for several records bisects to exactly those records', async (t) => {
  const rx = await startHttpReceiver();
  t.teardown(() => rx.close());
  const sink = await createWebhookSink(validateWebhookConfig({ type: 'webhook', url: rx.url, retry: fastRetry }, { local: true }), testSinkContext());
  t.teardown(() => sink.close());
  const batch = makeRecords(40);
  const poison = new Set([batch[0]!.eventId, batch[17]!.eventId, batch[18]!.eventId, batch[39]!.eventId]);
  rx.rejectIds((id) => poison.has(id), 422);
  const result = await sink.write(batch, new AbortController().signal);
  const rejected = batch.filter((_, i) => result.outcomes[i]!.status === 'rejected').map((r) => r.eventId);
  t.deepEqual(new Set(rejected), poison);
  t.deepEqual([...rx.deliveredSet()].sort(), batch.map((r) => r.eventId).filter((id) => !poison.has(id)).sort());
  t.is(rx.delivered().length, 36, 'nothing delivered twice');
});

test('webhook: a 3xx is a misconfiguration and the redirect is not followed', async (t) => {
  const rx = await startHttpReceiver();
  const target = await startHttpReceiver();
  t.teardown(() => rx.close());
  t.teardown(() => target.close());
  const sink = await createWebhookSink(validateWebhookConfig({ type: 'webhook', url: rx.url, retry: fastRetry }, { local: true }), testSinkContext());
  t.teardown(() => sink.close());
  rx.failNext(307, 1, { headers: { location: target.url } });
  const err = await t.throwsAsync(sink.write(makeRecords(2), new AbortController().signal));
  t.is((err as TributaryError).code, 'sink_redirect');
  t.is(classify(err), 'misconfiguration');
  t.is(target.requests.length, 0);
});

test('webhook: retries past the budget reject the records with sink_retries_exhausted', async (t) => {
  const rx = await startHttpReceiver();
  t.teardown(() => rx.close());
  const sink = await createWebhookSink(
    validateWebhookConfig({ type: 'webhook', url: rx.url, retry: { initialMs: 5, maxMs: 20, maxRetryAgeMs: 1_000 } }, { local: true }),
    testSinkContext(),
  );
  t.teardown(() => sink.close());
  rx.failNext(502, Infinity);
  const result = await sink.write(makeRecords(3), new AbortController().signal);
  t.true(result.outcomes.every((o) => o.status === 'rejected' && o.error.code === 'sink_retries_exhausted' && o.httpStatus === 502));
  t.true(result.retries >= 1);
});

test('webhook: a hung receiver hits the request timeout and the request is retried', async (t) => {
  const rx = await startHttpReceiver();
  t.teardown(() => rx.close());
  const sink = await createWebhookSink(
    validateWebhookConfig({ type: 'webhook', url: rx.url, timeoutMs: 300, retry: fastRetry }, { local: true }),
    testSinkContext(),
  );
  t.teardown(() => sink.close());
  rx.hang(true);
  const batch = makeRecords(2);
  const pending = sink.write(batch, new AbortController().signal);
  await rx.waitForRequests(1);
  rx.hang(false);
  const result = await pending;
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.true(result.retries >= 1);
});

// ——— SSRF at connect time: the names resolve through an injected resolver ———

const pointAt = (address: string) => async () => [{ address, family: address.includes(':') ? 6 : 4 }];

for (const [what, address, local] of [
  ['the EC2 metadata address', '169.254.169.254', false],
  ['the ECS credentials address', '169.254.170.2', true],
  ['a private address, even in local mode', '10.1.2.3', true],
  ['loopback outside local mode', '127.0.0.1', false],
  ['IPv4-mapped loopback outside local mode', '::ffff:127.0.0.1', false],
] as const) {
  test(`webhook: refuses to connect to a name resolving to ${what}`, async (t) => {
    const rx = await startHttpReceiver();
    t.teardown(() => rx.close());
    const url = `http://sink.example.test:${rx.port}/ingest`;
    const config = validateWebhookConfig({ type: 'webhook', url, retry: fastRetry }, { local: true });
    const sink = await createWebhookSink(config, testSinkContext({ local }), { resolver: pointAt(address) });
    t.teardown(() => sink.close());
    const err = await t.throwsAsync(sink.write(makeRecords(1), new AbortController().signal));
    t.is((err as TributaryError).code, 'ssrf_blocked');
    t.is(classify(err), 'misconfiguration');
    t.is(rx.requests.length, 0, 'no request reached anything');
    const probe = await t.throwsAsync(sink.healthcheck(new AbortController().signal));
    t.is((probe as TributaryError).code, 'ssrf_blocked');
  });
}

test('webhook: local mode connects to a name resolving to loopback', async (t) => {
  const rx = await startHttpReceiver();
  t.teardown(() => rx.close());
  const config = validateWebhookConfig({ type: 'webhook', url: `http://receiver.test:${rx.port}/ingest`, retry: fastRetry }, { local: true });
  const sink = await createWebhookSink(config, testSinkContext({ local: true }), { resolver: pointAt('127.0.0.1') });
  t.teardown(() => sink.close());
  const result = await sink.write(makeRecords(2), new AbortController().signal);
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
});

test('webhook: an address literal outside local mode is refused before connecting', async (t) => {
  const rx = await startHttpReceiver();
  t.teardown(() => rx.close());
  // Bypasses validate on purpose (a spec validated in local mode, run by a production node).
  const config = validateWebhookConfig({ type: 'webhook', url: rx.url, retry: fastRetry }, { local: true });
  const sink = await createWebhookSink(config, testSinkContext({ local: false }));
  t.teardown(() => sink.close());
  const err = await t.throwsAsync(sink.write(makeRecords(1), new AbortController().signal));
  t.is((err as TributaryError).code, 'ssrf_blocked');
  t.is(rx.requests.length, 0);
});
