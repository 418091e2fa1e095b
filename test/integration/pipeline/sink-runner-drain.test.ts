// A planned stop drains: the chunk the sink is writing when stop() is called finishes, and its
// offset is committed to the real broker before the consumer leaves the group, so a restarted
// sink does not deliver it again. (kafkajs ignores consumer.commitOffsets once stopping.)
import test from 'ava';
import { groups, topics } from '../../../src/kafka/topics.js';
import { createLogger } from '../../../src/observability/logger.js';
import { DedupWindow } from '../../../src/pipeline/dedup-window.js';
import { SinkRunner } from '../../../src/pipeline/sink-runner.js';
import type { EventRecord, Sink, WriteResult } from '../../../src/sinks/types.js';
import { StateStore } from '../../../src/state/state-store.js';
import { StateWriter } from '../../../src/state/state-writer.js';
import { eventually, testDynamo, uniq } from '../../helpers/infra.js';
import { integrationTopics } from '../../helpers/sink-topics.js';

/** A sink that holds its first write until released, and records what it was given. */
function gatedSink() {
  const written: string[][] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inFirstWrite = new Promise<void>((r) => (entered = r));
  const sink: Sink = {
    limits: { maxBatchEvents: 50, maxBatchBytes: 1024 * 1024 },
    async write(batch: readonly EventRecord[]): Promise<WriteResult> {
      written.push(batch.map((r) => r.eventId));
      if (written.length === 1) {
        entered();
        await released;
      }
      return { outcomes: batch.map(() => ({ status: 'delivered' as const })), requests: 1, retries: 0 };
    },
    healthcheck: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { sink, written, release, inFirstWrite };
}

test('stop() while a chunk is being written: the chunk finishes and its offset is committed', async (t) => {
  const integrationId = uniq('drain');
  const { kafka, admin, queue, topic, produce } = await integrationTopics(t, integrationId, 1);
  await produce(120);

  const store = new StateStore(testDynamo(), uniq('drain-state'));
  await store.ensureTable();
  const state = new StateWriter(store, { integrationId, epoch: 1 });
  t.teardown(() => state.close());
  const gate = gatedSink();
  const runner = new SinkRunner({
    integrationId,
    kafka,
    admin,
    producer: queue,
    sink: gate.sink,
    dedup: new DedupWindow(1_000),
    state,
    logger: createLogger({ level: 'warn', name: 'drain-test' }),
    sessionTimeoutMs: 10_000,
  });
  await runner.start();
  await gate.inFirstWrite;
  // Stop while the first chunk (50 events) is with the sink, then let the sink answer.
  const stopped = runner.stop(10_000);
  await new Promise((r) => setTimeout(r, 200));
  gate.release();
  await stopped;

  t.is(gate.written.length, 1, 'no new chunk starts once stopping');
  const committed = await eventually(async () => {
    const [o] = await admin.fetchOffsets({ groupId: groups.sink(integrationId), topics: [topic] });
    const p0 = o?.partitions.find((p) => p.partition === 0);
    return p0 && p0.offset !== '-1' ? p0.offset : undefined;
  }, 10_000, 'a committed offset');
  t.is(committed, '50', 'the drained chunk is committed: a restart resumes after it');
});
