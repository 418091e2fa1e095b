import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import kafkajs from 'kafkajs';
import type { Rejection } from '../../src/control/rejections.js';
import type { StateRow } from '../../src/control/integrations-client.js';
import { eventually, testKafka, uniq } from '../helpers/infra.js';
import { startControlCluster, type ControlCluster } from '../helpers/control-cluster.js';

const { CompressionTypes } = kafkajs;
interface Ctx {
  c: ControlCluster;
  rejected: Rejection[];
  good: string;
  close: () => Promise<void>;
}
const test = anyTest as TestFn<Ctx>;

// One node and one good integration for the whole file; each bad spec is its own test.
test.before(async (t) => {
  const c = await startControlCluster([{ totalEvents: 2_000, rate: 40 }]);
  t.context = { c, rejected: [], good: '', close: () => c.close() };
  await c.startNode('bad-n1');
  const good = c.ids[0]!;
  await c.write(good, JSON.stringify(c.specs.get(good)));
  await c.receiver.waitFor((rx) => rx.deliveredSet().size >= 50, 60_000, 'the good integration delivering');
  const rejected: Rejection[] = [];
  const consumer = testKafka().consumer({ groupId: uniq('rejected-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic: c.names.rejected, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void rejected.push(JSON.parse(message.value!.toString()) as Rejection) });
  t.context = {
    c,
    rejected,
    good,
    close: async () => {
      await consumer.disconnect();
      await c.close();
    },
  };
});

test.after.always(async (t) => {
  await t.context.close?.();
});

const base = (c: ControlCluster, id: string, patch: Record<string, unknown>) => ({ ...c.specs.get(c.ids[0]!)!, id, ...patch });

async function expectRejected(t: ExecutionContext<Ctx>, id: string, reason: RegExp, path?: string): Promise<StateRow> {
  const { c, rejected, good } = t.context;
  const row = (await eventually(async () => ((await c.row(id)) as StateRow | undefined)?.lastRejection ? ((await c.row(id)) as StateRow) : undefined, 30_000, `rejection of ${id}`))!;
  t.regex(row.lastRejection!.reason, reason);
  if (path) t.true(row.lastRejection!.issues.some((i) => i.path === path), `an issue at ${path}: ${JSON.stringify(row.lastRejection!.issues)}`);
  t.is(row.status, 'rejected');
  const rec = await eventually(() => rejected.find((r) => r.id === id), 30_000, `${id} on the rejected topic`);
  t.regex(rec.reason, reason);
  t.is(rec.node, 'bad-n1');
  // Other integrations are unaffected: the good one keeps running and delivering.
  const before = c.receiver.deliveredSet().size;
  t.is((await c.row(good))!.status, 'running');
  await eventually(() => (c.receiver.deliveredSet().size > before || c.emulator.stats(c.appKey(good)).generated >= 2_000 ? true : undefined), 20_000, 'the good integration still delivering');
  return row;
}

test.serial('unknown sink type ⇒ rejected with the path, nothing runs', async (t) => {
  const id = uniq('bad-sink');
  await t.context.c.write(id, JSON.stringify(base(t.context.c, id, { sink: { type: 'carrier-pigeon' } })));
  await expectRejected(t, id, /invalid spec/, 'sink.type');
});

test.serial('http URL to a private address ⇒ rejected', async (t) => {
  const id = uniq('bad-ssrf');
  await t.context.c.write(id, JSON.stringify(base(t.context.c, id, { sink: { type: 'webhook', url: 'http://10.0.0.7/hook' } })));
  await expectRejected(t, id, /invalid spec/, 'sink.url');
});

test.serial('missing token ref ⇒ rejected', async (t) => {
  const { c } = t.context;
  const id = uniq('bad-token');
  const spec = base(c, id, {}) as Record<string, unknown>;
  await c.write(id, JSON.stringify({ ...spec, connect: { ...(spec.connect as object), token: undefined } }));
  await expectRejected(t, id, /invalid spec/, 'connect.token');
});

test.serial('a 10 MB document (gzip-compressed past the broker limit) ⇒ rejected as too large', async (t) => {
  const { c } = t.context;
  const id = uniq('bad-big');
  const producer = testKafka().producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const doc = JSON.stringify(base(c, id, { padding: 'x'.repeat(10 * 1024 * 1024) }));
  await producer.send({ topic: c.names.topic, compression: CompressionTypes.GZIP, messages: [{ key: id, value: doc }] });
  const row = await expectRejected(t, id, /document too large/);
  t.regex(row.statusReason!, /limit is 65536/);
});

test.serial('invalid JSON written by another producer ⇒ rejected; a bad update of a running integration keeps the last good spec running', async (t) => {
  const { c, good } = t.context;
  const id = uniq('bad-json');
  await c.write(id, '{"version":1,"id":');
  await expectRejected(t, id, /not valid JSON/);
  // The running integration gets a bad update: it keeps running, the rejection sits beside it.
  await c.write(good, '{"version": 1, oops');
  const row = await eventually(async () => ((await c.row(good)) as StateRow | undefined)?.lastRejection ? ((await c.row(good)) as StateRow) : undefined, 30_000, 'rejection of the bad update');
  t.is(row.status, 'running');
  t.regex(row.lastRejection!.reason, /not valid JSON/);
  const before = c.receiver.deliveredSet().size;
  await eventually(() => (c.receiver.deliveredSet().size > before || c.emulator.stats(c.appKey(good)).generated >= 2_000 ? true : undefined), 20_000, 'still delivering');
});

test.serial('the CLI validates before producing: a bad spec exits non-zero with the path and writes nothing', async (t) => {
  const { c } = t.context;
  const id = uniq('cli-bad');
  const file = join(tmpdir(), `${id}.json`);
  t.teardown(() => rmSync(file, { force: true }));
  writeFileSync(file, JSON.stringify(base(c, id, { sink: { type: 'webhook', url: 'http://169.254.169.254/latest' } })));
  const res = await c.cli('integrations', 'create', file, '--json');
  t.is(res.status, 2, res.stderr);
  t.regex(res.stderr, /sink\.url: must not point at a link-local address/);
  t.false(res.stderr.includes('token-'), 'no inline token echoed');
  const get = await c.cli('integrations', 'get', id, '--json');
  t.is(get.status, 2);
  t.regex(get.stderr, /not found/);
});
