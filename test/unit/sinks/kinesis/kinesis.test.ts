// The kinesis sink's pure parts: configuration, partition keys (device channel, else event id),
// entry sizes counted with the key, and assumeRole session names.
import test from 'ava';
import { ConfigError } from '../../../../src/errors.js';
import { sessionNameFor } from '../../../../src/sinks/aws/credentials.js';
import { validateKinesisConfig } from '../../../../src/sinks/kinesis/config.js';
import { kinesisEntry, kinesisLimits, partitionKeyFor, planKinesisRequests } from '../../../../src/sinks/kinesis/request-builder.js';
import { makeRecords } from '../../../helpers/sink-compliance.js';

test('kinesis config: defaults follow the PutRecords limits; bad keys are named under sink', (t) => {
  const c = validateKinesisConfig({ type: 'kinesis', streamName: 'acme', region: 'ap-southeast-2' }, { local: false });
  t.like(c, { maxBatchEvents: 500, maxBatchBytes: 5 * 1024 * 1024 });
  const err = t.throws(() => validateKinesisConfig({ type: 'kinesis', region: 'us-east-1', maxBatchEvents: 0 }, { local: false }));
  t.deepEqual((err as ConfigError).issues.map((i) => i.path).sort(), ['sink.maxBatchEvents', 'sink.streamName']);
});

test('kinesis partition keys: the device channel; the event id when there is none or it is over 256 characters', (t) => {
  t.is(partitionKeyFor({ key: 'ch-1', eventId: 'e' }), 'ch-1');
  t.is(partitionKeyFor({ key: null, eventId: 'e' }), 'e');
  t.is(partitionKeyFor({ key: '', eventId: 'e' }), 'e');
  t.is(partitionKeyFor({ key: 'x'.repeat(257), eventId: 'e' }), 'e');
  t.is(partitionKeyFor({ key: '€'.repeat(256), eventId: 'e' }), '€'.repeat(256), 'characters, not bytes');
});

test('kinesis entries: data is the event JSON as read; size counts the UTF-8 partition key', (t) => {
  const [r] = makeRecords(1);
  const e = kinesisEntry({ ...r!, key: 'é' });
  t.is(e.data, r!.value);
  t.is(e.size, r!.value.length + 2);
  const big = kinesisEntry({ ...r!, value: Buffer.alloc(kinesisLimits.maxEntryBytes), key: 'k' });
  t.deepEqual(planKinesisRequests([big]).oversized, [0], 'a record at exactly 1 MiB of data is over the limit with its key');
});

test('assumeRole session names fit STS rules whatever the integration id', (t) => {
  t.is(sessionNameFor('int-42'), 'tributary-int-42');
  t.regex(sessionNameFor('a b/c:d'.repeat(20)), /^[\w+=,.@-]{2,64}$/);
});
