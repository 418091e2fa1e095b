import test from 'ava';
import fc from 'fast-check';
import { Partitioners, type IHeaders, type KafkaMessage, type Message } from 'kafkajs';
import { eventCount, eventsOf, fromKafkaMessage, header, packPartition, toKafkaMessage, toPackMessages } from '../../../src/pipeline/event-record.js';
import { envelopeOf, type ConnectEvent } from '../../../src/connect/event.js';
import type { EventRecord } from '../../../src/sinks/types.js';

const iso = fc.date({ min: new Date('2015-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());

test('the event envelope survives the round trip through a Kafka record', (t) => {
  fc.assert(
    fc.property(
      fc.uuid(),
      fc.constantFrom('OPEN', 'CUSTOM', 'PUSH_BODY', 'UNINSTALL'),
      fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String),
      iso,
      iso,
      fc.option(fc.uuid(), { nil: undefined }),
      fc.json(),
      (id, type, offset, occurred, processed, channel, body) => {
        const event: ConnectEvent = { id, type, offset, occurred, processed, ...(channel ? { device: { ios_channel: channel } } : {}) };
        const raw = JSON.stringify({ ...event, body });
        const m = toKafkaMessage(envelopeOf(event), raw, { integrationId: 'i1', correlationId: 'c1', ingestedAt: processed });
        const consumed = { ...m, offset: '42', key: m.key ? Buffer.from(m.key as string) : null } as unknown as KafkaMessage;
        const r = fromKafkaMessage('i1', 3, consumed);
        return (
          r.eventId === id &&
          r.connectOffset === offset &&
          r.type === type &&
          r.occurred === occurred &&
          r.value.toString() === raw &&
          r.key === (channel ?? null) &&
          r.partition === 3 &&
          r.offset === '42' &&
          r.correlationId === 'c1'
        );
      },
    ),
  );
  t.pass();
});

test('a record without the envelope headers is refused', (t) => {
  t.throws(() => fromKafkaMessage('i1', 0, { offset: '1', key: null, value: Buffer.from('{}'), headers: {} } as unknown as KafkaMessage), {
    message: /lacks the event envelope/,
  });
});

// ---- packed records (flag `source.packRecords`) ----

const eventArb = fc.record({
  id: fc.uuid(),
  type: fc.constantFrom('OPEN', 'CUSTOM', 'PUSH_BODY'),
  offset: fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String),
  occurred: iso,
  processed: iso,
  channel: fc.option(fc.constantFrom('dev-a', 'dev-b', 'dev-c', 'dev-ü', 'dev-e'), { nil: undefined }),
  body: fc.string({ maxLength: 200 }),
});

function packItem(e: { id: string; type: string; offset: string; occurred: string; processed: string; channel?: string | undefined; body: string }) {
  const event: ConnectEvent = { id: e.id, type: e.type, offset: e.offset, occurred: e.occurred, processed: e.processed, ...(e.channel ? { device: { channel: e.channel } } : {}) };
  return { event: envelopeOf(event), raw: Buffer.from(JSON.stringify({ ...event, body: e.body })) };
}

function consumed(m: Message, offset: string): KafkaMessage {
  return { offset, key: null, value: m.value as Buffer, headers: m.headers, timestamp: '0', attributes: 0 } as unknown as KafkaMessage;
}

test('packed records carry every event once, in order per partition, each on the partition its own record would take', (t) => {
  fc.assert(
    fc.property(fc.array(eventArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 300, max: 5_000 }), (arb, partitions, maxEvents, maxBytes) => {
      const items = arb.map(packItem);
      const ctx = { integrationId: 'i1', correlationId: 'c1', ingestedAt: '2026-01-01T00:00:00.000Z', watermark: '7' };
      const messages = toPackMessages(items, ctx, partitions, { maxEvents, maxBytes });
      const perPartition = new Map<number, EventRecord[]>();
      messages.forEach((m, n) => {
        const events = eventsOf('i1', m.partition!, consumed(m, String(n)));
        // Within limits, unless one event alone exceeds the bytes.
        const bytes = events.reduce((a, e) => a + e.value.length, 0);
        if (events.length > maxEvents || (bytes > maxBytes && events.length > 1)) throw new Error(`pack of ${events.length} events, ${bytes} bytes`);
        if (header(m.headers, 'tributary-connect-offset') !== events[events.length - 1]!.connectOffset) throw new Error('pack header offset is not its last event');
        if (header(m.headers, 'tributary-watermark') !== '7') throw new Error('watermark header lost');
        perPartition.set(m.partition!, [...(perPartition.get(m.partition!) ?? []), ...events]);
      });
      const all = [...perPartition.values()].flat();
      if (all.length !== items.length) return false;
      for (const [p, events] of perPartition) {
        const expected = items.filter((i) => packPartition(i.event, partitions) === p);
        if (events.length !== expected.length) return false;
        for (let k = 0; k < events.length; k++) {
          const e = events[k]!;
          const want = expected[k]!;
          if (e.eventId !== want.event.id || e.connectOffset !== want.event.offset || e.type !== want.event.type || e.occurred !== want.event.occurred || e.processed !== want.event.processed) return false;
          if (!e.value.equals(want.raw) || e.key !== want.event.channel || e.correlationId !== 'c1' || e.partition !== p) return false;
        }
      }
      return true;
    }),
  );
  t.pass();
});

test('a device keeps its partition packed or not: the partition of its own record', (t) => {
  const items = ['dev-1', 'dev-2', 'dev-3', 'dev-4'].map((channel, i) => packItem({ id: `00000000-0000-4000-8000-00000000000${i}`, type: 'OPEN', offset: String(i), occurred: '2026-01-01T00:00:00.000Z', processed: '2026-01-01T00:00:00.000Z', channel, body: '' }));
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  for (const { event } of items) {
    const own = partitioner({ topic: 't', partitionMetadata, message: toKafkaMessage(event, '{}', { integrationId: 'i', correlationId: 'c', ingestedAt: 'x' }) });
    t.is(packPartition(event, 6), own);
  }
});

test('eventCount weighs a record without decoding it: a pack its header count, anything else one', (t) => {
  const items = [0, 1, 2].map((i) => packItem({ id: `00000000-0000-4000-8000-00000000000${i}`, type: 'OPEN', offset: String(10 + i), occurred: '2026-01-01T00:00:00.000Z', processed: '2026-01-01T00:00:00.000Z', channel: 'dev-a', body: 'x' }));
  const ctx = { integrationId: 'i', correlationId: 'c', ingestedAt: 'x' };
  const [m] = toPackMessages(items, ctx, 1, { maxEvents: 10, maxBytes: 10_000 });
  t.is(eventCount(consumed(m!, '5')), 3);
  t.is(eventCount(consumed(toKafkaMessage(items[0]!.event, '{}', ctx), '6')), 1);
  for (const bad of ['0', '-2', '1.5', 'many', '']) {
    t.is(eventCount(consumed({ ...m!, headers: { ...(m!.headers as Record<string, string>), 'tributary-pack-events': bad } }, '7')), 1, `header "${bad}"`);
  }
});

test('a malformed packed record is refused with a clear reason, never read as fewer events', (t) => {
  const items = [0, 1, 2].map((i) => packItem({ id: `00000000-0000-4000-8000-00000000000${i}`, type: 'OPEN', offset: String(10 + i), occurred: '2026-01-01T00:00:00.000Z', processed: '2026-01-01T00:00:00.000Z', channel: 'dev-a', body: 'x' }));
  const [m] = toPackMessages(items, { integrationId: 'i', correlationId: 'c', ingestedAt: 'x' }, 1, { maxEvents: 10, maxBytes: 10_000 });
  const value = m!.value as Buffer;
  const bad = (mutate: (h: Record<string, unknown>, v: Buffer) => Buffer) => {
    const headers = { ...(m!.headers as Record<string, unknown>) };
    const v = mutate(headers, Buffer.from(value));
    return () => eventsOf('i', 0, consumed({ ...m!, headers: headers as IHeaders, value: v }, '5'));
  };
  t.is(eventsOf('i', 0, consumed(m!, '5')).length, 3);
  t.throws(bad((_, v) => v.subarray(0, v.length - 3)), { message: /ends inside event 3 of 3/ }, 'truncated');
  t.throws(bad((_, v) => Buffer.concat([v, Buffer.from('junk')])), { message: /4 bytes after its 3 events/ }, 'trailing bytes');
  t.throws(bad((h, v) => ((h['tributary-pack-events'] = '4'), v)), { message: /ends inside event 4 of 4/ }, 'count too high');
  t.throws(bad((h, v) => ((h['tributary-pack-events'] = '2'), v)), { message: /bytes after its 2 events/ }, 'count too low');
  t.throws(bad((h, v) => ((h['tributary-pack-events'] = 'many'), v)), { message: /bad tributary-pack-events header/ });
  t.throws(bad((h, v) => ((h['tributary-pack-events'] = '0'), v)), { message: /bad tributary-pack-events header/ });
  t.throws(bad((_, v) => (v.writeUInt32BE(0xfffffff0, 0), v)), { message: /ends inside event 1 of 3/ }, 'a length past the end');
  t.throws(bad((_, v) => (v.writeUInt32BE(0, 0), v)), { message: /ends inside event/ }, 'a length that shifts every field after it');
  const [noId] = toPackMessages([{ ...items[0]!, event: { ...items[0]!.event, id: '' } }], { integrationId: 'i', correlationId: 'c', ingestedAt: 'x' }, 1, { maxEvents: 10, maxBytes: 10_000 });
  t.throws(() => eventsOf('i', 0, consumed(noId!, '6')), { message: /event 1 of 1 lacks an id/ }, 'an empty id');
  t.throws(bad((_, v) => (v.writeUInt32BE(0xffffffff, 0), v)), { message: /ends inside event 1 of 3/ }, 'the no-key marker outside the key field');
});
