import test from 'ava';
import { ratePerSec, renderView, type IntegrationView, type LocalSnapshot } from '../../../src/devtools/local-view.js';

const integration = (over: Partial<IntegrationView> = {}): IntegrationView => ({
  id: 'demo-large',
  app: 'demo-large',
  tier: 'large',
  sink: 'webhook',
  status: 'running',
  inPerSec: 498.4,
  outPerSec: 501,
  read: 12_000,
  delivered: 11_900,
  backlog: 100,
  dlq: 0,
  ...over,
});

const snapshot = (over: Partial<LocalSnapshot> = {}): LocalSnapshot => ({
  at: '2025-05-01T12:00:05.000Z',
  uptimeMs: 65_000,
  nodeId: 'laptop-123',
  health: { kafka: 'ok', dynamodb: 'ok' },
  integrations: [integration({ id: 'demo-small', tier: 'small', sink: 'file', inPerSec: 4.6, outPerSec: 0, delivered: 300, backlog: 0 }), integration()],
  openPages: [],
  pagesOpened: 0,
  pagesResolved: 0,
  faults: [],
  ...over,
});

test('renders the header, node health, one row per integration and no pages', (t) => {
  const lines = renderView(snapshot(), { width: 140 });
  t.is(lines[0], 'Tributary local — node laptop-123 — up 1m05s — 12:00:05Z');
  t.is(lines[1], 'Node health: kafka ok   dynamodb ok');
  t.regex(lines[3]!, /^INTEGRATION\s+TIER\s+SINK\s+STATE\s+IN\/s\s+OUT\/s\s+DELIVERED\s+BACKLOG\s+DLQ LAST ERROR$/);
  t.regex(lines[4]!, /^demo-small\s+small\s+file\s+running\s+4\.6\s+0\.0\s+300\s+0\s+0 -$/);
  t.regex(lines[5]!, /^demo-large\s+large\s+webhook\s+running\s+498\s+501\s+11900\s+100\s+0 -$/);
  t.true(lines.includes('Open pages: none   (opened 0, resolved 0)'));
  t.true(lines.includes('Faults: none'));
  t.false(lines.some((l) => l.includes('\x1b[')), 'no escapes without color');
});

test('shows a failing integration, its last error, open pages, faults and the hint; lines fit the width', (t) => {
  const s = snapshot({
    integrations: [integration({ status: 'failing', outPerSec: 0, backlog: 15_000, lastError: 'retryable/sink_http_5xx: webhook answered 503 Service Unavailable after 12 attempts', lastErrorAt: '2025-05-01T12:00:03.000Z' })],
    openPages: [{ dedupKey: 'tributary-local:integration:demo-large', severity: 'critical', since: '2025-05-01T11:59:40.000Z' }],
    pagesOpened: 1,
    faults: ["sink down: demo-large's webhook receiver answers 503"],
    hint: 'keys: f, c, q',
  });
  const lines = renderView(s, { width: 100 });
  const row = lines.find((l) => l.startsWith('demo-large'))!;
  t.regex(row, /failing\s+498\s+0\.0\s+11900\s+15000\s+0 12:00:03 retr…$/, 'the error is cut to the width');
  t.regex(renderView(s, { width: 160 }).find((l) => l.startsWith('demo-large'))!, /0 12:00:03 retryable\/sink_http_5xx: webhook answered 503/);
  t.true(lines.every((l) => l.length <= 100));
  t.true(lines.includes('Open pages: 1   (opened 1, resolved 0)'));
  t.true(lines.includes('  [critical] tributary-local:integration:demo-large since 11:59:40Z'));
  t.true(lines.includes("Faults: sink down: demo-large's webhook receiver answers 503"));
  t.is(lines[lines.length - 1], 'keys: f, c, q');
});

test('colour paints states and health; a missing integration list says it is waiting', (t) => {
  const lines = renderView(snapshot({ integrations: [], health: { kafka: 'down 12s', dynamodb: 'ok' } }), { color: true });
  t.true(lines.some((l) => l.includes('\x1b[31mdown 12s')));
  t.true(lines.some((l) => l.includes('waiting for the node')));
});

test('rates come from two samples', (t) => {
  t.is(ratePerSec(undefined, { atMs: 1000, read: 10, delivered: 0 }, 'read'), 0);
  t.is(ratePerSec({ atMs: 0, read: 0, delivered: 0 }, { atMs: 2000, read: 1000, delivered: 500 }, 'read'), 500);
  t.is(ratePerSec({ atMs: 0, read: 0, delivered: 0 }, { atMs: 2000, read: 1000, delivered: 500 }, 'delivered'), 250);
  t.is(ratePerSec({ atMs: 1000, read: 5, delivered: 0 }, { atMs: 1000, read: 9, delivered: 0 }, 'read'), 0);
  t.is(ratePerSec({ atMs: 0, read: 9, delivered: 0 }, { atMs: 1000, read: 5, delivered: 0 }, 'read'), 0, 'never negative (a reset row)');
});
