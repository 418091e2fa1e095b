// The one compliance suite every sink passes (STYLE.md, Tests): what the sink actor relies on
// to commit offsets safely. Call it once per sink from that sink's integration test:
//
//   sinkCompliance(test, { name: 'file', setup: async (t) => ({ sink, deliveredIds, breakConfiguration }) });
//   httpSinkCompliance(test, 'webhook', (receiver) => buildWebhookSinkAt(receiver.url));
//
// Every sink: delivers every record with one outcome per record in input order; an empty batch
// is a no-op; an aborted signal throws AbortError and delivers nothing; a broken configuration
// throws a `misconfiguration` error and counts nothing delivered. HTTP sinks also: retry a 503
// honouring Retry-After, then deliver; a 400 for one record rejects exactly that record and
// delivers the others; a 401 halts (throws misconfiguration); an abort mid-retry throws
// AbortError promptly; a 413 splits down to one event; a refused connection is retried.
import type { ExecutionContext, TestFn } from 'ava';
import { randomBytes, randomUUID } from 'node:crypto';
import { classify, TributaryError } from '../../src/errors.js';
import { resolveSecret } from '../../src/control/secrets.js';
import { createLogger } from '../../src/observability/logger.js';
import type { EventRecord, Sink, SinkContext, WriteResult } from '../../src/sinks/types.js';
import { startHttpReceiver, type HttpReceiver, type HttpReceiverOptions } from './http-receiver.js';

/** Builds `count` records of one integration with unique event ids and increasing offsets. */
export function makeRecords(count: number, options: { integrationId?: string; startOffset?: number; padBytes?: number; partition?: number } = {}): EventRecord[] {
  const integrationId = options.integrationId ?? 'it-compliance';
  const correlationId = randomUUID();
  return Array.from({ length: count }, (_, i) => {
    const id = randomUUID();
    const offset = String((options.startOffset ?? 1000) + i);
    const event = {
      id,
      type: 'CUSTOM',
      offset,
      occurred: '2024-05-01T12:00:00.000Z',
      processed: '2024-05-01T12:00:01.000Z',
      device: { channel: `ch-${i % 7}` },
      body: { name: 'purchase', value: 12345678901234567890n.toString(), // Random padding resists gzip, so size limits bite whether or not the sink compresses.
      pad: randomBytes(options.padBytes ?? 0).toString('base64').slice(0, options.padBytes ?? 0) },
    };
    return {
      integrationId,
      eventId: id,
      connectOffset: offset,
      type: 'CUSTOM',
      occurred: event.occurred,
      processed: event.processed,
      ingestedAt: '2024-05-01T12:00:02.000Z',
      correlationId,
      value: Buffer.from(JSON.stringify(event)),
      key: `ch-${i % 7}`,
      partition: options.partition ?? 0,
      offset: String(i),
    };
  });
}

/** A SinkContext for tests: silent logger, real secret resolution. */
export function testSinkContext(overrides: Partial<SinkContext> = {}): SinkContext {
  return {
    integrationId: 'it-compliance',
    appKey: 'app-compliance',
    tier: 'small',
    local: true,
    logger: createLogger({ level: 'silent' }),
    resolveSecret: (ref) => resolveSecret(ref),
    dataDir: '/nonexistent',
    ...overrides,
  };
}

export interface ComplianceFixture {
  sink: Sink;
  /** Ids the backend holds durably (receiver: answered 2xx; file: in fsynced files). */
  deliveredIds(): Promise<readonly string[]>;
  /** Makes every following write fail as a misconfiguration (HTTP: 401; file: unusable directory). Called before any write. */
  breakConfiguration(): Promise<void>;
  /** Present for HTTP sinks: enables the HTTP cases. */
  receiver?: HttpReceiver;
}

export interface ComplianceSubject {
  name: string;
  /** `http` adds the HTTP cases; the fixture must then carry its `receiver`. */
  transport?: 'http' | 'other';
  /** A fresh sink and backend per test; register cleanup with `t.teardown`. */
  setup(t: ExecutionContext): Promise<ComplianceFixture>;
}

const never = (): AbortSignal => new AbortController().signal;

function assertOutcomesShape(t: ExecutionContext, result: WriteResult, size: number): void {
  t.is(result.outcomes.length, size, 'one outcome per record');
  t.true(result.outcomes.every((o) => o !== undefined), 'no holes in outcomes');
}

export function sinkCompliance(test: TestFn, subject: ComplianceSubject): void {
  const name = subject.name;

  test(`${name}: delivers every record once with one outcome per record, in order`, async (t) => {
    const fx = await subject.setup(t);
    const batch = makeRecords(25);
    const result = await fx.sink.write(batch, never());
    assertOutcomesShape(t, result, batch.length);
    t.true(result.outcomes.every((o) => o.status === 'delivered'));
    const ids = await fx.deliveredIds();
    t.deepEqual([...ids].sort(), batch.map((r) => r.eventId).sort(), 'exactly the batch, durably held, no duplicates');
  });

  test(`${name}: an empty batch is a no-op`, async (t) => {
    const fx = await subject.setup(t);
    const result = await fx.sink.write([], never());
    t.deepEqual(result.outcomes, []);
    t.deepEqual(await fx.deliveredIds(), []);
  });

  test(`${name}: declares positive batch limits`, async (t) => {
    const fx = await subject.setup(t);
    t.true(fx.sink.limits.maxBatchEvents > 0);
    t.true(fx.sink.limits.maxBatchBytes > 0);
  });

  test(`${name}: an already-aborted signal throws AbortError and delivers nothing`, async (t) => {
    const fx = await subject.setup(t);
    const ctrl = new AbortController();
    ctrl.abort();
    const err = await t.throwsAsync(fx.sink.write(makeRecords(3), ctrl.signal));
    t.is(err?.name, 'AbortError');
    t.deepEqual(await fx.deliveredIds(), []);
  });

  test(`${name}: halts on a misconfiguration (throws, kind misconfiguration) and counts nothing delivered`, async (t) => {
    const fx = await subject.setup(t);
    await fx.breakConfiguration();
    const err = await t.throwsAsync(fx.sink.write(makeRecords(5), never()));
    t.true(err instanceof TributaryError, `a TributaryError, got ${String(err)}`);
    t.is(classify(err), 'misconfiguration');
    t.deepEqual(await fx.deliveredIds(), []);
    const probe = await t.throwsAsync(fx.sink.healthcheck(never()));
    t.is(classify(probe), 'misconfiguration', 'the probe agrees');
  });

  test(`${name}: the healthcheck passes on a healthy backend and delivers no data`, async (t) => {
    const fx = await subject.setup(t);
    await t.notThrowsAsync(fx.sink.healthcheck(never()));
    t.deepEqual(await fx.deliveredIds(), []);
  });

  // ——— HTTP sinks ———

  const httpTest = (title: string, body: (t: ExecutionContext, fx: ComplianceFixture & { receiver: HttpReceiver }) => Promise<void>): void => {
    if (subject.transport !== 'http') return;
    test(`${name}: ${title}`, async (t) => {
      const fx = await subject.setup(t);
      if (!fx.receiver) throw new Error(`${name}: an http compliance subject must return its receiver`);
      await body(t, fx as ComplianceFixture & { receiver: HttpReceiver });
    });
  };

  httpTest('retries 503 honouring Retry-After, then delivers', async (t, fx) => {
    fx.receiver.failNext(503, 1, { headers: { 'retry-after': '1' } });
    const batch = makeRecords(10);
    const started = Date.now();
    const result = await fx.sink.write(batch, never());
    const elapsed = Date.now() - started;
    t.true(result.outcomes.every((o) => o.status === 'delivered'));
    t.true(result.retries >= 1, 'the retry is counted');
    t.true(elapsed >= 950, `waited for Retry-After (${elapsed} ms)`);
    t.is(fx.receiver.requests.length, 2);
    t.deepEqual([...fx.receiver.deliveredSet()].sort(), batch.map((r) => r.eventId).sort());
  });

  httpTest('retries 429 with an HTTP-date Retry-After', async (t, fx) => {
    fx.receiver.rateLimitNext(1, new Date(Date.now() + 1500).toUTCString());
    const batch = makeRecords(3);
    const started = Date.now();
    const result = await fx.sink.write(batch, never());
    t.true(result.outcomes.every((o) => o.status === 'delivered'));
    t.true(Date.now() - started >= 400, 'waited for the date (second resolution)');
  });

  httpTest('a 400 for one record rejects exactly that record and delivers all others', async (t, fx) => {
    const batch = makeRecords(16);
    const poison = batch[11]!.eventId;
    fx.receiver.rejectIds((id) => id === poison);
    const result = await fx.sink.write(batch, never());
    assertOutcomesShape(t, result, batch.length);
    result.outcomes.forEach((o, i) => {
      if (i === 11) {
        t.is(o.status, 'rejected');
        if (o.status === 'rejected') {
          t.is(o.httpStatus, 400);
          t.is(o.error.kind, 'permanent');
          t.true((o.responseBody ?? '').includes(poison), 'the truncated response body travels to the DLQ');
          t.true((o.responseBody ?? '').length <= 1024);
        }
      } else {
        t.is(o.status, 'delivered', `record ${i}`);
      }
    });
    t.deepEqual([...fx.receiver.deliveredSet()].sort(), batch.filter((r) => r.eventId !== poison).map((r) => r.eventId).sort());
  });

  httpTest('a 401 halts: throws misconfiguration, nothing counted delivered', async (t, fx) => {
    fx.receiver.failNext(401, 1);
    const err = await t.throwsAsync(fx.sink.write(makeRecords(4), never()));
    t.is(classify(err), 'misconfiguration');
    t.is((err as TributaryError).status, 401);
    t.is(fx.receiver.requests.length, 1, 'no retry storm');
    t.is(fx.receiver.delivered().length, 0);
  });

  httpTest('an abort mid-retry throws AbortError promptly', async (t, fx) => {
    fx.receiver.failNext(503, Infinity, { headers: { 'retry-after': '30' } });
    const ctrl = new AbortController();
    const pending = fx.sink.write(makeRecords(4), ctrl.signal);
    await fx.receiver.waitForRequests(1, 5_000);
    const abortedAt = Date.now();
    ctrl.abort();
    const err = await t.throwsAsync(pending);
    t.is(err?.name, 'AbortError');
    t.true(Date.now() - abortedAt < 1_000, 'promptly, not after the 30 s wait');
    t.is(fx.receiver.delivered().length, 0);
  });

  httpTest('an abort during a hung request throws AbortError promptly', async (t, fx) => {
    fx.receiver.hang(true);
    const ctrl = new AbortController();
    const pending = fx.sink.write(makeRecords(2), ctrl.signal);
    await fx.receiver.waitForRequests(1, 5_000);
    const abortedAt = Date.now();
    ctrl.abort();
    const err = await t.throwsAsync(pending);
    t.is(err?.name, 'AbortError');
    t.true(Date.now() - abortedAt < 1_000);
  });

  httpTest('a 413 splits the batch down to one event; a single event still too large is rejected', async (t, fx) => {
    const batch = [...makeRecords(7, { padBytes: 300 }), ...makeRecords(1, { padBytes: 4000 })];
    fx.receiver.setMaxBodyBytes(2000);
    const result = await fx.sink.write(batch, never());
    assertOutcomesShape(t, result, batch.length);
    result.outcomes.slice(0, 7).forEach((o) => t.is(o.status, 'delivered'));
    const last = result.outcomes[7]!;
    t.is(last.status, 'rejected');
    if (last.status === 'rejected') t.is(last.httpStatus, 413);
    t.deepEqual([...fx.receiver.deliveredSet()].sort(), batch.slice(0, 7).map((r) => r.eventId).sort());
  });

  httpTest('a refused connection is retried until the receiver is back', async (t, fx) => {
    await fx.receiver.stop();
    const batch = makeRecords(5);
    const pending = fx.sink.write(batch, never());
    // Not a wait for state: the fault itself lasts a while, so a few refused attempts happen.
    await new Promise((r) => setTimeout(r, 300));
    await fx.receiver.start();
    const result = await pending;
    t.true(result.outcomes.every((o) => o.status === 'delivered'));
    t.true(result.retries >= 1);
    t.deepEqual([...fx.receiver.deliveredSet()].sort(), batch.map((r) => r.eventId).sort());
  });
}

/**
 * The compliance suite for an HTTP sink: each test gets a fresh receiver and a sink built by
 * `build(receiver)` pointed at `receiver.url` (with fast retries: initial backoff of a few ms).
 */
export function httpSinkCompliance(
  test: TestFn,
  name: string,
  build: (receiver: HttpReceiver) => Promise<Sink>,
  receiverOptions: HttpReceiverOptions = {},
): void {
  sinkCompliance(test, {
    name,
    transport: 'http',
    async setup(t) {
      const receiver = await startHttpReceiver(receiverOptions);
      t.teardown(() => receiver.close());
      const sink = await build(receiver);
      t.teardown(() => sink.close());
      return {
        sink,
        receiver,
        deliveredIds: async () => receiver.delivered(),
        breakConfiguration: async () => receiver.failNext(401, Infinity, { body: 'invalid token' }),
      };
    },
  });
}
