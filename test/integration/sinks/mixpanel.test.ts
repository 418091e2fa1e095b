// The mixpanel sink against a loopback server implementing the Import API contract: the shared
// compliance suite (gzip and plain, service account and project token), strict-mode partial
// failures (failed_records: exactly those rejected, the others imported once), 413 and 429.
import test from 'ava';
import { classify } from '../../../src/errors.js';
import { validateMixpanelConfig } from '../../../src/sinks/mixpanel/config.js';
import { createMixpanelSink } from '../../../src/sinks/mixpanel/service.js';
import type { EventRecord } from '../../../src/sinks/types.js';
import { makeRecords, sinkCompliance, testSinkContext } from '../../helpers/sink-compliance.js';
import { startMixpanelServer } from '../../helpers/vendor-servers.js';

const fastRetry = { initialMs: 5, maxMs: 50, maxRetryAgeMs: 60_000 };
const never = (): AbortSignal => new AbortController().signal;
const serviceAccount = { username: 'tributary.sa', secret: 'sa-secret', projectId: '4242' };

async function setup(t: { teardown(fn: () => unknown): void }, extra: Record<string, unknown> = {}) {
  const server = await startMixpanelServer({ serviceAccount, projectToken: 'tok-9' });
  t.teardown(() => server.close());
  const config = validateMixpanelConfig(
    {
      type: 'mixpanel',
      auth: { type: 'serviceAccount', username: serviceAccount.username, secret: { value: serviceAccount.secret } },
      projectId: serviceAccount.projectId,
      baseUrl: server.baseUrl,
      timeoutMs: 5_000,
      retry: fastRetry,
      ...extra,
    },
    { local: true },
  );
  const sink = await createMixpanelSink(config, testSinkContext());
  t.teardown(() => sink.close());
  return { server, sink };
}

for (const [label, extra] of [
  ['mixpanel', {}],
  ['mixpanel (no gzip, project token)', { gzip: false, auth: { type: 'projectToken', token: { value: 'tok-9' } }, projectId: undefined }],
] as const) {
  sinkCompliance(test, {
    name: label,
    transport: 'http',
    async setup(t) {
      const { server, sink } = await setup(t, extra);
      return { sink, receiver: server, deliveredIds: async () => server.delivered(), breakConfiguration: async () => server.failNext(401, Infinity) };
    },
  });
}

const ids = (rs: readonly EventRecord[]): string[] => rs.map((r) => r.eventId);

test('mixpanel: a strict 400 with failed_records rejects exactly those; the others are imported once, not resent', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(40);
  const poison = new Set([batch[2]!.eventId, batch[17]!.eventId, batch[39]!.eventId]);
  server.rejectIds((id) => poison.has(id));
  const result = await sink.write(batch, never());
  result.outcomes.forEach((o, i) => {
    if (poison.has(batch[i]!.eventId)) {
      t.is(o.status, 'rejected');
      if (o.status === 'rejected') {
        t.is(o.httpStatus, 400);
        t.is(o.error.kind, 'permanent');
        t.true((o.responseBody ?? '').includes(batch[i]!.eventId));
      }
    } else t.is(o.status, 'delivered', `record ${i}`);
  });
  t.is(server.requests.length, 1, 'Mixpanel imported the valid events: nothing is resent');
  t.deepEqual(server.delivered().sort(), ids(batch).filter((id) => !poison.has(id)).sort());
});

test('mixpanel: events carry time in ms, distinct_id, $insert_id = Connect id and $device_id', async (t) => {
  const { server, sink } = await setup(t);
  const batch = makeRecords(2);
  await sink.write(batch, never());
  const ev = server.ingested().get(batch[1]!.eventId)!;
  t.is(ev.event, 'purchase');
  t.like(ev.properties as object, { time: Date.parse('2024-05-01T12:00:00.000Z'), distinct_id: '$device:ch-1', $insert_id: batch[1]!.eventId, $device_id: 'ch-1', value: '12345678901234567890' });
  t.is(server.requests[0]!.headers['content-encoding'], 'gzip');
  t.regex(server.requests[0]!.path, /^\/import\?strict=1&project_id=4242$/);
});

test('mixpanel: a service account without its project_id is refused by validation', (t) => {
  const err = t.throws(() => validateMixpanelConfig({ type: 'mixpanel', auth: { type: 'serviceAccount', username: 'u', secret: { ref: 'env:MP' } } }, { local: false }));
  t.regex(err!.message, /sink\.projectId: is required with a service account/);
});

test('mixpanel: wrong credentials halt (401) and the probe agrees', async (t) => {
  const server = await startMixpanelServer({ serviceAccount });
  t.teardown(() => server.close());
  const config = validateMixpanelConfig(
    { type: 'mixpanel', auth: { type: 'serviceAccount', username: 'tributary.sa', secret: { value: 'nope' } }, projectId: '4242', baseUrl: server.baseUrl, retry: fastRetry },
    { local: true },
  );
  const sink = await createMixpanelSink(config, testSinkContext());
  t.teardown(() => sink.close());
  const err = await t.throwsAsync(sink.write(makeRecords(3), never()));
  t.is(classify(err), 'misconfiguration');
  t.is(classify(await t.throwsAsync(sink.healthcheck(never()))), 'misconfiguration');
});

test('mixpanel: 429 backs off honouring Retry-After and delivers', async (t) => {
  const { server, sink } = await setup(t);
  server.rateLimitNext(1, 1);
  const started = Date.now();
  const result = await sink.write(makeRecords(6), never());
  t.true(result.outcomes.every((o) => o.status === 'delivered'));
  t.true(Date.now() - started >= 950);
  t.is(server.delivered().length, 6);
});
