import test from 'ava';
import fc from 'fast-check';
import type { KafkaMessage } from 'kafkajs';
import { fromKafkaMessage, toKafkaMessage } from '../../../src/pipeline/event-record.js';
import type { ConnectEvent } from '../../../src/connect/event.js';

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
        const m = toKafkaMessage(event, raw, { integrationId: 'i1', correlationId: 'c1', ingestedAt: processed });
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
