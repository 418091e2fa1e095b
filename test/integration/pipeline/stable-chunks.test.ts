// Flag `sink.stableChunks` against the real broker and DynamoDB Local: a sink records each chunk
// in the state row before delivering it; when its owner dies mid-chunk, the next owner re-sends
// exactly that chunk first (same events, so the same webhook batch id) even though its own
// limits would cut another one, then goes on as usual. A fenced (older) owner records nothing.
import test from 'ava';
import { createLogger } from '../../../src/observability/logger.js';
import { DedupWindow } from '../../../src/pipeline/dedup-window.js';
import { SinkRunner } from '../../../src/pipeline/sink-runner.js';
import type { EventRecord, Sink, WriteResult } from '../../../src/sinks/types.js';
import { StateStore } from '../../../src/state/state-store.js';
import { StateWriter } from '../../../src/state/state-writer.js';
import { eventually, testDynamo, uniq } from '../../helpers/infra.js';
import { integrationTopics } from '../../helpers/sink-topics.js';

/** A sink with the given chunk size; `hangFirst`: its first write never answers (the node "dies" in it). */
function recordingSink(maxBatchEvents: number, hangFirst: boolean) {
  const written: string[][] = [];
  let entered!: () => void;
  const inFirstWrite = new Promise<void>((r) => (entered = r));
  const sink: Sink = {
    limits: { maxBatchEvents, maxBatchBytes: 1024 * 1024 },
    async write(batch: readonly EventRecord[], signal: AbortSignal): Promise<WriteResult> {
      written.push(batch.map((r) => r.offset));
      if (written.length === 1) entered();
      if (hangFirst && written.length === 1) {
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
      }
      return { outcomes: batch.map(() => ({ status: 'delivered' as const })), requests: 1, retries: 0 };
    },
    healthcheck: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  return { sink, written, inFirstWrite };
}

test('the next owner re-sends the chunk the dead owner recorded, exactly, then chunks by its own limits', async (t) => {
  const integrationId = uniq('stable');
  const { kafka, admin, queue, produce } = await integrationTopics(t, integrationId, 1);
  await produce(120);
  const store = new StateStore(testDynamo(), uniq('stable-state'));
  await store.ensureTable();
  const info = { appKey: 'app', tier: 'small', sinkType: 'test' };
  const runner = (state: StateWriter, sink: Sink) =>
    new SinkRunner({ integrationId, kafka, admin, producer: queue, sink, dedup: new DedupWindow(1_000), state, logger: createLogger({ level: 'warn', name: 'stable' }), sessionTimeoutMs: 10_000, stableChunks: true });

  // Owner A cuts chunks of 50 and dies inside its first delivery (nothing committed).
  const a = await store.claim(integrationId, 'node-a', info);
  const stateA = new StateWriter(store, { integrationId, epoch: a.epoch });
  const sinkA = recordingSink(50, true);
  const runA = runner(stateA, sinkA.sink);
  await runA.start();
  await sinkA.inFirstWrite;
  t.deepEqual((await store.get(integrationId))?.chunks, { '0': { first: sinkA.written[0]![0], last: sinkA.written[0]![49] } }, 'recorded before delivery');
  await runA.stop(200); // past the grace the write is aborted: as good as dead, nothing committed
  await stateA.close();

  // Owner B would cut chunks of 80; its first chunk is A's 50, then 70 by its own limit.
  const b = await store.claim(integrationId, 'node-b', info);
  const stateB = new StateWriter(store, { integrationId, epoch: b.epoch });
  t.teardown(() => stateB.close());
  const sinkB = recordingSink(80, false);
  const runB = runner(stateB, sinkB.sink);
  await runB.start();
  t.teardown(() => runB.stop(5_000));
  await eventually(async () => (sinkB.written.flat().length >= 120 ? true : undefined), 30_000, 'all 120 delivered by B');
  t.deepEqual(sinkB.written[0], sinkA.written[0], 'the chunk in doubt re-sent exactly');
  t.is(sinkB.written[1]!.length, 70, 'then the rest, by its own limit');
  t.is(new Set(sinkB.written.flat()).size, 120);

  // A fenced owner cannot overwrite B's record.
  t.false(await stateA.recordChunk(0, { first: '0', last: '1' }), 'a closed, older owner records nothing');
  const fencedA = new StateWriter(store, { integrationId, epoch: a.epoch });
  t.teardown(() => fencedA.close());
  t.false(await fencedA.recordChunk(0, { first: '0', last: '1' }));
  t.true(fencedA.isFenced);
  t.not((await store.get(integrationId))?.chunks?.['0']?.first, '0');
});
