// Flag source.packRecords: packs never exceed what the integration's sink takes in one chunk,
// nor 512 KiB, whatever the sink config says (absent, malformed or out of range).
import test from 'ava';
import { maxPackBytes, packLimitsFor } from '../../../src/actors/integration-tasks.js';
import { validateSinkConfig } from '../../../src/sinks/registry.js';

test('pack limits follow the sink\'s chunk limits, within 1-10,000 events and 512 KiB', (t) => {
  t.deepEqual(packLimitsFor({ maxBatchEvents: 200, maxBatchBytes: 100_000 }), { maxEvents: 200, maxBytes: 100_000 });
  t.deepEqual(packLimitsFor({ maxBatchEvents: 50_000, maxBatchBytes: 50 * 1024 * 1024 }), { maxEvents: 10_000, maxBytes: maxPackBytes }, 'capped');
  const webhook = validateSinkConfig({ type: 'webhook', url: 'http://127.0.0.1:9/ingest' }, { local: true });
  t.deepEqual(packLimitsFor(webhook as never), { maxEvents: 500, maxBytes: maxPackBytes }, "the webhook's defaults: 500 events, 1 MiB (capped at 512 KiB)");
});

test('a sink config without usable limits gets the defaults, never zero, NaN or a fraction', (t) => {
  const defaults = { maxEvents: 500, maxBytes: maxPackBytes };
  t.deepEqual(packLimitsFor(undefined), defaults);
  t.deepEqual(packLimitsFor({}), defaults);
  t.deepEqual(packLimitsFor({ maxBatchEvents: '200', maxBatchBytes: null }), defaults);
  t.deepEqual(packLimitsFor({ maxBatchEvents: Number.NaN, maxBatchBytes: Infinity }), defaults);
  t.deepEqual(packLimitsFor({ maxBatchEvents: 0, maxBatchBytes: -5 }), { maxEvents: 1, maxBytes: 1 });
  t.deepEqual(packLimitsFor({ maxBatchEvents: 2.7, maxBatchBytes: 1000.5 }), { maxEvents: 2, maxBytes: 1000 });
});
