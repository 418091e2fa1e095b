// A sink whose group membership expires in the middle of a batch, against the real broker: the
// event loop stalls past the session timeout while a chunk is with the sink (a long GC pause, a
// SIGSTOP), so the commit that goes out behind it is refused (the coordinator no longer knows the
// member). The batch must end there, the consumer rejoin and re-fetch from the last commit that
// landed, the dedup window drop what was already delivered, and the group commit to the end:
// every event delivered once, none lost.
import test from 'ava';
import { groups } from '../../../src/kafka/topics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { DedupWindow } from '../../../src/pipeline/dedup-window.js';
import { SinkRunner, uncommittedChunksPerPartition } from '../../../src/pipeline/sink-runner.js';
import type { EventRecord, Sink, WriteResult } from '../../../src/sinks/types.js';
import { StateStore } from '../../../src/state/state-store.js';
import { StateWriter } from '../../../src/state/state-writer.js';
import { eventually, testDynamo, uniq } from '../../helpers/infra.js';
import { integrationTopics } from '../../helpers/sink-topics.js';

const sessionTimeoutMs = 6_000;
const chunk = 50;

/** Blocks this thread (timers, sockets, heartbeats: everything) for `ms`, as a stalled process would. */
function stallEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('membership lost mid-batch (event loop stalled past the session timeout): the refused commit ends the batch, nothing is lost or sent twice', async (t) => {
  const integrationId = uniq('expired');
  const { kafka, admin, queue, topic, produce } = await integrationTopics(t, integrationId, 1);
  const events = await produce(6 * chunk);

  const store = new StateStore(testDynamo(), uniq('expired-state'));
  await store.ensureTable();
  const state = new StateWriter(store, { integrationId, epoch: 1 });
  t.teardown(() => state.close());

  const writes: string[][] = [];
  let stalledAt: number | undefined;
  const sink: Sink = {
    limits: { maxBatchEvents: chunk, maxBatchBytes: 1024 * 1024 },
    async write(batch: readonly EventRecord[]): Promise<WriteResult> {
      writes.push(batch.map((r) => r.eventId));
      // The third chunk: the commits of the first two have gone out; the member expires while
      // this one is with the sink, so the commit pushed after it is refused.
      if (writes.length === 3) {
        stalledAt = Date.now();
        stallEventLoop(sessionTimeoutMs + 3_000);
      }
      return { outcomes: batch.map(() => ({ status: 'delivered' as const })), requests: 1, retries: 0 };
    },
    healthcheck: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  let duplicates = 0;
  const runner = new SinkRunner({
    integrationId,
    kafka,
    admin,
    producer: queue,
    sink,
    dedup: new DedupWindow(10_000),
    state,
    logger: createLogger({ level: 'silent', name: 'expired-test' }),
    sessionTimeoutMs,
    onDuplicates: (n) => (duplicates += n),
  });
  let failure: unknown;
  runner.failed.catch((err) => (failure = err));
  await runner.start();
  t.teardown(() => runner.stop(5_000));

  const committed = await eventually(
    async () => {
      const [o] = await admin.fetchOffsets({ groupId: groups.sink(integrationId), topics: [topic] });
      const p0 = o?.partitions.find((p) => p.partition === 0);
      return p0?.offset === String(events.length) ? p0.offset : undefined;
    },
    60_000,
    'the group committed to the end after rejoining',
  );
  t.is(committed, String(events.length));
  t.is(failure, undefined, 'the runner recovered by itself (a rejoin, not a failure)');
  t.truthy(stalledAt, 'the stall happened');

  const delivered = writes.flat();
  t.is(delivered.length, events.length, 'each event written once');
  t.deepEqual([...new Set(delivered)].sort(), events.map((e) => e.id).sort(), 'none lost');
  // The chunk whose commit was refused (and the one before it, had its commit not landed before
  // the stall) came back in the re-fetch and was dropped as already delivered.
  t.log(`re-fetched and dropped as delivered: ${duplicates}`);
  t.true(duplicates >= chunk && duplicates <= uncommittedChunksPerPartition * chunk, `re-fetched and dropped: ${duplicates}`);
  t.true(duplicates % chunk === 0, 'whole chunks came back');
});
