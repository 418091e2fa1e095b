// How long and how much the sink consumer lets the broker gather: the node's defaults unless the
// sink asks (S3's maxBatchBytes / maxBatchAgeMs), capped so heartbeats keep the group membership.
import test from 'ava';
import fc from 'fast-check';
import { consumerFetchSettings, maxFetchHoldBytes } from '../../../src/pipeline/sink-runner.js';

const plain = { maxBatchEvents: 500, maxBatchBytes: 1024 * 1024 };

test('a sink that asks nothing gets the node defaults', (t) => {
  t.deepEqual(consumerFetchSettings(plain, { fetchMaxWaitMs: 1_000, fetchMinBytes: 1, sessionTimeoutMs: 30_000 }), { maxWaitTimeInMs: 1_000, minBytes: 1, maxBytesPerPartition: 2 * 1024 * 1024 });
  t.deepEqual(consumerFetchSettings(plain, {}), { maxWaitTimeInMs: 1_000, minBytes: 1, maxBytesPerPartition: 2 * 1024 * 1024 });
});

test('an object-store sink waits for its age, capped at a third of the session timeout, and for its bytes, capped at 8 MiB', (t) => {
  const s3 = { ...plain, fetch: { minBytes: 8 * 1024 * 1024, maxWaitMs: 300_000 } };
  t.deepEqual(consumerFetchSettings(s3, { fetchMaxWaitMs: 1_000, fetchMinBytes: 1, sessionTimeoutMs: 30_000 }), { maxWaitTimeInMs: 10_000, minBytes: 8 * 1024 * 1024, maxBytesPerPartition: 8 * 1024 * 1024 });
  t.is(consumerFetchSettings({ ...plain, fetch: { minBytes: 64 * 1024 * 1024, maxWaitMs: 4_000 } }, { sessionTimeoutMs: 30_000 }).minBytes, maxFetchHoldBytes);
  t.is(consumerFetchSettings({ ...plain, fetch: { minBytes: 1024, maxWaitMs: 4_000 } }, { sessionTimeoutMs: 30_000 }).maxWaitTimeInMs, 4_000);
  // A shorter age than the node's own wait does not shorten it.
  t.is(consumerFetchSettings({ ...plain, fetch: { minBytes: 1024, maxWaitMs: 100 } }, { fetchMaxWaitMs: 1_000 }).maxWaitTimeInMs, 1_000);
});

test('property: the wait never exceeds a third of the session timeout unless the node itself set more; sizes stay within bounds', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1e9 }),
      fc.integer({ min: 100, max: 3_600_000 }),
      fc.integer({ min: 10, max: 10_000 }),
      fc.integer({ min: 1_000, max: 300_000 }),
      (minBytes, maxWaitMs, nodeWait, session) => {
        const r = consumerFetchSettings({ ...plain, fetch: { minBytes, maxWaitMs } }, { fetchMaxWaitMs: nodeWait, fetchMinBytes: 1, sessionTimeoutMs: session });
        return r.maxWaitTimeInMs <= Math.max(nodeWait, Math.floor(session / 3)) && r.minBytes <= maxFetchHoldBytes && r.maxBytesPerPartition >= r.minBytes;
      },
    ),
  );
  t.pass();
});
