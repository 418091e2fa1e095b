import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { TributaryError, classify } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { PageAction } from '../../../src/supervision/guardian-types.js';
import { PagerError, createPager, parsePagerConfig } from '../../../src/supervision/pager/index.js';

// ---- A local PagerDuty Events API v2 endpoint: node:http on 127.0.0.1 with PagerDuty's request
// contract (202 {status, message, dedup_key}; 400 on an invalid event), incidents tracked by
// dedup key, and failures on demand (429, 5xx, dropped connections). Other paths act as a
// generic webhook receiver. Kept in this file so the suite's glob finds no helper to run.

interface ReceivedEvent {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  status: number;
}

interface PagerDutyReceiver {
  readonly url: string;
  readonly requests: ReceivedEvent[];
  /** Incidents by dedup key: triggered (open) or resolved, as PagerDuty would show them. */
  readonly incidents: Map<string, { status: 'triggered' | 'resolved'; triggers: number; summary: string }>;
  /** Answer `status` (with optional headers) to the next `times` requests. */
  failNext(status: number, times: number, headers?: Record<string, string>): void;
  /** Destroy the socket of the next `times` requests without answering. */
  dropNext(times: number): void;
  close(): Promise<void>;
}

const severities = new Set(['critical', 'error', 'warning', 'info']);
const actions = new Set(['trigger', 'acknowledge', 'resolve']);

/** The validation PagerDuty applies to an Events v2 body; returns the reasons it is invalid. */
function invalidReasons(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return ['body must be a JSON object'];
  const e = body as Record<string, unknown>;
  const errors: string[] = [];
  if (typeof e.routing_key !== 'string' || e.routing_key.length !== 32) errors.push("'routing_key' must be a 32 character integration key");
  if (typeof e.event_action !== 'string' || !actions.has(e.event_action)) errors.push("'event_action' is invalid");
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length > 255)) errors.push("'dedup_key' is invalid");
  if (e.event_action !== 'trigger' && typeof e.dedup_key !== 'string') errors.push("'dedup_key' is required for this action");
  if (e.event_action === 'trigger') {
    const p = e.payload as Record<string, unknown> | undefined;
    if (typeof p !== 'object' || p === null) errors.push("'payload' is missing");
    else {
      if (typeof p.summary !== 'string' || p.summary.length === 0 || p.summary.length > 1024) errors.push("'payload.summary' is invalid");
      if (typeof p.source !== 'string' || p.source.length === 0) errors.push("'payload.source' is missing");
      if (typeof p.severity !== 'string' || !severities.has(p.severity)) errors.push("'payload.severity' is invalid");
      if (p.timestamp !== undefined && (typeof p.timestamp !== 'string' || Number.isNaN(Date.parse(p.timestamp)))) errors.push("'payload.timestamp' is invalid");
    }
  }
  return errors;
}

async function startPagerDutyReceiver(): Promise<PagerDutyReceiver> {
  const requests: ReceivedEvent[] = [];
  const incidents: PagerDutyReceiver['incidents'] = new Map();
  const failures: { status: number; headers: Record<string, string> }[] = [];
  let drops = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      const record = (status: number): void => {
        requests.push({ path: req.url ?? '', headers: req.headers, body, status });
      };
      if (drops > 0) {
        drops -= 1;
        record(0);
        req.socket.destroy();
        return;
      }
      const failure = failures.shift();
      if (failure) {
        record(failure.status);
        res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
        res.end(JSON.stringify({ status: 'throttle event', message: 'Requests for this service are arriving too quickly' }));
        return;
      }
      if (req.url !== '/v2/enqueue') {
        // Any other path is a generic JSON webhook receiver: it accepts what it is sent.
        record(200);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
        return;
      }
      const errors = invalidReasons(body);
      if (errors.length > 0) {
        record(400);
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors }));
        return;
      }
      const e = body as { event_action: string; dedup_key?: string; payload?: { summary: string } };
      const dedupKey = e.dedup_key ?? `generated-${requests.length}`;
      const current = incidents.get(dedupKey);
      if (e.event_action === 'trigger') {
        // Triggers on an open incident merge into it; after a resolve they open a new one.
        if (current?.status === 'triggered') current.triggers += 1;
        else incidents.set(dedupKey, { status: 'triggered', triggers: 1, summary: e.payload!.summary });
      } else if (e.event_action === 'resolve' && current) {
        current.status = 'resolved';
      }
      record(202);
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: dedupKey }));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v2/enqueue`,
    requests,
    incidents,
    failNext(status, times, headers = {}) {
      for (let i = 0; i < times; i += 1) failures.push({ status, headers });
    },
    dropNext(times) {
      drops += times;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---- Tests

const routingKey = 'R0UT1NGKEYdeadbeef0123456789abcd'; // 32 characters, like a real integration key
const fastRetry = { maxAttempts: 4, initialDelayMs: 5, maxDelayMs: 50, timeoutMs: 5_000 };

function page(action: 'trigger' | 'resolve' = 'trigger', over: Partial<PageAction> = {}): PageAction {
  return {
    action,
    dedupKey: 'tributary:integration:int-0168',
    severity: 'critical',
    summary: 'Large app abc: integration int-0168 failing for 5 min (retryable: sink_server)',
    source: 'tributary',
    time: Date.parse('2025-03-03T09:27:00.000Z'),
    component: 'int-0168',
    group: 'abc',
    class: 'integration.large',
    details: { rule: 'integration.large', failures: 12 },
    ...over,
  };
}

function captureLogs(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { logger: createLogger({ level: 'debug', destination: stream }), text: () => Buffer.concat(chunks).toString('utf8') };
}

test('PagerDuty: a trigger and its resolve reach Events v2 with one stable dedup_key', async (t) => {
  const rx = await startPagerDutyReceiver();
  t.teardown(() => rx.close());
  const pager = await createPager({ type: 'pagerduty', routingKey: { ref: 'env:PD_KEY' }, url: rx.url, retry: fastRetry }, { env: { PD_KEY: routingKey } });
  await pager.send(page('trigger'));
  await pager.send(page('resolve', { time: Date.parse('2025-03-03T09:42:30.000Z') }));
  t.deepEqual(rx.requests.map((r) => [r.path, r.status]), [['/v2/enqueue', 202], ['/v2/enqueue', 202]]);
  const [trigger, resolve] = rx.requests.map((r) => r.body as Record<string, unknown>);
  t.like(trigger, {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: 'tributary:integration:int-0168',
    payload: {
      summary: page().summary,
      source: 'tributary',
      severity: 'critical',
      timestamp: '2025-03-03T09:27:00.000Z',
      component: 'int-0168',
      group: 'abc',
      class: 'integration.large',
      custom_details: { rule: 'integration.large', failures: 12 },
    },
  });
  t.deepEqual(resolve, { routing_key: routingKey, event_action: 'resolve', dedup_key: 'tributary:integration:int-0168' });
  t.is(rx.requests[0]!.headers['content-type'], 'application/json');
  t.deepEqual([...rx.incidents], [['tributary:integration:int-0168', { status: 'resolved', triggers: 1, summary: page().summary }]]);
});

test('PagerDuty: two nodes paging the same condition make one incident', async (t) => {
  const rx = await startPagerDutyReceiver();
  t.teardown(() => rx.close());
  const config = { type: 'pagerduty' as const, routingKey: { value: routingKey }, url: rx.url, retry: fastRetry };
  const [a, b] = [await createPager(config), await createPager(config)];
  const fleet = page('trigger', { dedupKey: 'tributary:fleet', component: 'fleet', group: 'fleet', class: 'fleet' });
  await Promise.all([a.send(fleet), b.send({ ...fleet, time: fleet.time + 10_000 })]);
  t.is(rx.incidents.size, 1);
  t.is(rx.incidents.get('tributary:fleet')!.triggers, 2);
  await a.send({ ...fleet, action: 'resolve' });
  await b.send({ ...fleet, action: 'resolve' }); // idempotent
  t.is(rx.incidents.get('tributary:fleet')!.status, 'resolved');
});

test('PagerDuty: 429 then success is retried, and no log line carries the routing key', async (t) => {
  const rx = await startPagerDutyReceiver();
  t.teardown(() => rx.close());
  const logs = captureLogs();
  rx.failNext(429, 2, { 'retry-after': '1' });
  const pager = await createPager({ type: 'pagerduty', routingKey: { value: routingKey }, url: rx.url, retry: fastRetry }, { logger: logs.logger });
  await pager.send(page());
  t.deepEqual(rx.requests.map((r) => r.status), [429, 429, 202]);
  t.true(rx.requests.every((r) => (r.body as { dedup_key: string }).dedup_key === 'tributary:integration:int-0168'));
  const text = logs.text();
  t.regex(text, /page send failed; retrying/);
  t.regex(text, /"status":429/);
  t.regex(text, /page sent/);
  t.false(text.includes(routingKey), 'the routing key never reaches the logs');
});

test('PagerDuty: 5xx and dropped connections are retried', async (t) => {
  const rx = await startPagerDutyReceiver();
  t.teardown(() => rx.close());
  rx.failNext(503, 1);
  const pager = await createPager({ type: 'pagerduty', routingKey: { value: routingKey }, url: rx.url, retry: fastRetry });
  await pager.send(page());
  rx.dropNext(1);
  await pager.send(page('resolve'));
  t.deepEqual(rx.requests.map((r) => r.status), [503, 202, 0, 202]);
  t.is(rx.incidents.get('tributary:integration:int-0168')!.status, 'resolved');
});

test('PagerDuty: retries are bounded; the failure is retryable for the caller', async (t) => {
  const rx = await startPagerDutyReceiver();
  t.teardown(() => rx.close());
  rx.failNext(500, 10);
  const logs = captureLogs();
  const pager = await createPager({ type: 'pagerduty', routingKey: { value: routingKey }, url: rx.url, retry: { ...fastRetry, maxAttempts: 3 } }, { logger: logs.logger });
  const err = await t.throwsAsync(pager.send(page()), { instanceOf: PagerError });
  t.is(err!.attempts, 3);
  t.is(err!.status, 500);
  t.true(err!.retriable);
  t.is(classify(err), 'retryable');
  t.is(rx.requests.length, 3);
  t.false(logs.text().includes(routingKey));
  t.false(err!.message.includes(routingKey));
});

test('PagerDuty: 400 on an invalid event fails at once, naming the reason, never the key', async (t) => {
  const rx = await startPagerDutyReceiver();
  t.teardown(() => rx.close());
  const badKey = 'too-short-key';
  const logs = captureLogs();
  const pager = await createPager({ type: 'pagerduty', routingKey: { value: badKey }, url: rx.url, retry: fastRetry }, { logger: logs.logger });
  const err = await t.throwsAsync(pager.send(page()), { instanceOf: PagerError });
  t.is(err!.status, 400);
  t.false(err!.retriable);
  t.is(classify(err), 'fatal');
  t.regex(err!.message, /HTTP 400 \(Event object is invalid: 'routing_key' must be a 32 character integration key\)/);
  t.is(rx.requests.length, 1);
  // A malformed payload is refused the same way.
  const good = await createPager({ type: 'pagerduty', routingKey: { value: routingKey }, url: rx.url, retry: fastRetry });
  await t.throwsAsync(good.send(page('trigger', { severity: 'catastrophic' as never })), { message: /payload\.severity/ });
  t.is(rx.requests.length, 2);
  t.false(logs.text().includes(badKey));
});

test('PagerDuty: the routing key resolves from a file reference; a missing one stops creation', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-pd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rx = await startPagerDutyReceiver();
  t.teardown(() => rx.close());
  writeFileSync(join(dir, 'key'), `${routingKey}\n`);
  const pager = await createPager({ type: 'pagerduty', routingKey: { ref: `file:${join(dir, 'key')}` }, url: rx.url });
  await pager.send(page());
  t.is((rx.requests[0]!.body as { routing_key: string }).routing_key, routingKey);
  const err = await t.throwsAsync(createPager({ type: 'pagerduty', routingKey: { ref: 'env:TRIBUTARY_TEST_NO_SUCH_KEY' } }, { env: {} }), { instanceOf: TributaryError });
  t.is(err!.code, 'secret_unresolved');
  t.is(parsePagerConfig({ type: 'pagerduty', routingKey: { ref: 'env:K' } }).type, 'pagerduty');
  t.is((parsePagerConfig({ type: 'pagerduty', routingKey: { ref: 'env:K' } }) as { url: string }).url, 'https://events.pagerduty.com/v2/enqueue');
  t.throws(() => parsePagerConfig({ type: 'pagerduty', routingKey: 'plain-text' }), { message: /routingKey/ });
  t.throws(() => parsePagerConfig({ type: 'sms' }), { message: /type/ });
});

test('webhook: posts the page action with a bearer token; 4xx is not retried; the token stays out of logs', async (t) => {
  const rx = await startPagerDutyReceiver();
  t.teardown(() => rx.close());
  const logs = captureLogs();
  const token = 'webhook-secret-token-123';
  const hook = await createPager({ type: 'webhook', url: rx.url.replace('/v2/enqueue', '/alerts'), token: { value: token }, retry: fastRetry }, { logger: logs.logger });
  rx.failNext(401, 1);
  await t.throwsAsync(hook.send(page()), { instanceOf: PagerError, message: /HTTP 401/ });
  t.is(rx.requests.length, 1);
  await hook.send(page());
  const r = rx.requests[1]!;
  t.is(r.path, '/alerts');
  t.is(r.status, 200);
  t.is(r.headers.authorization, `Bearer ${token}`);
  t.like(r.body as object, { action: 'trigger', dedupKey: 'tributary:integration:int-0168', severity: 'critical', timestamp: '2025-03-03T09:27:00.000Z' });
  rx.failNext(502, 1);
  await hook.send(page('resolve'));
  t.deepEqual(rx.requests.slice(2).map((x) => [x.status, (x.body as { action: string }).action]), [[502, 'resolve'], [200, 'resolve']]);
  const anonymous = await createPager({ type: 'webhook', url: rx.url.replace('/v2/enqueue', '/alerts'), retry: fastRetry });
  await anonymous.send(page());
  t.is(rx.requests.at(-1)!.headers.authorization, undefined);
  t.false(logs.text().includes(token));
});

test('log pager: writes the page as a structured log line', async (t) => {
  const logs = captureLogs();
  const pager = await createPager({ type: 'log' }, { logger: logs.logger });
  await pager.send(page());
  const line = JSON.parse(logs.text().trim()) as Record<string, unknown>;
  t.like(line, { level: 'warn', msg: 'page trigger', dedupKey: 'tributary:integration:int-0168', severity: 'critical' });
});
