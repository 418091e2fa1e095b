// The node's logger: children of children keep every binding (their bindings strings are
// flattened on creation), and secrets in bindings or log objects are redacted.
import { PassThrough } from 'node:stream';
import test from 'ava';
import { createLogger } from '../../../src/observability/logger.js';

function capture(): { lines: () => Record<string, unknown>[]; destination: PassThrough } {
  const destination = new PassThrough();
  let text = '';
  destination.on('data', (c: Buffer) => (text += c.toString()));
  return { destination, lines: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('a child of a child logs its own and every ancestor binding once, in order', async (t) => {
  const out = capture();
  const root = createLogger({ level: 'info', name: 'n', destination: out.destination });
  const integration = root.child({ integrationId: 'i-1' });
  const sink = integration.child({ role: 'sink', sinkType: 'webhook' });
  const deeper = sink.child({ url: 'http://127.0.0.1:9/x' }).child({ attempt: 2 });
  deeper.info({ events: 3 }, 'sent');
  integration.info('started');
  await new Promise((resolve) => setImmediate(resolve));
  const [a, b] = out.lines();
  t.like(a, { name: 'n', integrationId: 'i-1', role: 'sink', sinkType: 'webhook', url: 'http://127.0.0.1:9/x', attempt: 2, events: 3, msg: 'sent' });
  t.deepEqual(Object.keys(a!).filter((k) => ['integrationId', 'role', 'sinkType', 'url', 'attempt'].includes(k)), ['integrationId', 'role', 'sinkType', 'url', 'attempt']);
  t.like(b, { integrationId: 'i-1', msg: 'started' });
  t.false('role' in b!);
});

test('secrets are redacted in a child\'s bindings and in log objects', async (t) => {
  const out = capture();
  const root = createLogger({ level: 'info', destination: out.destination });
  root.child({ token: 'canary-token-1' }).child({ role: 'source' }).info({ secret: 'canary-secret-2', password: 'canary-pw-3' }, 'hello');
  await new Promise((resolve) => setImmediate(resolve));
  const text = JSON.stringify(out.lines());
  t.false(/canary/.test(text), text);
  t.like(out.lines()[0], { token: '[redacted]', secret: '[redacted]', password: '[redacted]', role: 'source' });
});
