// The source and the pack-buffer pool (src/kafka/kafkajs-encoder.ts): a pack's buffer goes back to
// the pool once the producer acknowledged it, and never after the producer refused it (a failed
// request's bytes may still wait on a socket). In-memory client and producer: what is tested is
// when the runner releases; the bytes of requests written into reused buffers are tested in
// test/unit/kafka/kafkajs-encoder.test.ts, the pipeline on a real broker in test/e2e/pipeline.test.ts.
import test from 'ava';
import type { ConnectClient, EventItem, StreamItem } from '../../../src/connect/client/index.js';
import { envelopeOf } from '../../../src/connect/event.js';
import { allocRecordValue, arenaPoolStats } from '../../../src/kafka/kafkajs-encoder.js';
import type { RecordProducer } from '../../../src/kafka/produce-queue.js';
import { createLogger } from '../../../src/observability/logger.js';
import { SourceRunner } from '../../../src/pipeline/source-runner.js';
import type { StateWriter } from '../../../src/state/state-writer.js';

/** An event of ~3 KB: two of them make a pack over 4 KiB, which gets a pooled buffer. */
function event(n: number): EventItem {
  const offset = String(1_000 + n);
  const e = { id: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`, type: 'CUSTOM', offset, occurred: '2026-01-01T00:00:00.000Z', processed: '2026-01-01T00:00:00.000Z', body: { text: 'x'.repeat(3_000) } };
  return { kind: 'event', event: envelopeOf(e), raw: Buffer.from(JSON.stringify(e)), offset };
}

/** Yields one chunk, then waits until aborted, as an idle stream does. */
function clientOf(chunk: StreamItem[]): ConnectClient {
  return {
    confirmedOffset: undefined,
    confirm: () => undefined,
    async *batches(signal: AbortSignal) {
      yield chunk;
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    },
  } as unknown as ConnectClient;
}

function runnerWith(producer: RecordProducer): SourceRunner {
  return new SourceRunner({
    integrationId: 'i1',
    client: clientOf([1, 2].map(event)),
    producer,
    state: { count: () => undefined, setCheckpoint: () => undefined } as unknown as StateWriter,
    logger: createLogger({ level: 'silent' }),
    batch: { maxCount: 2, maxBytes: 1 << 20, lingerMs: 10_000 },
    pack: { partitions: 1, limits: { maxEvents: 500, maxBytes: 512 * 1024 } },
  });
}

test.serial('an acknowledged pack\'s buffer returns to the pool', async (t) => {
  const before = arenaPoolStats();
  let ack!: () => void;
  const sent: Buffer[] = [];
  const producer = {
    send: (_topic: string, messages: { value: Buffer }[]) => {
      for (const m of messages) sent.push(m.value);
      return new Promise<void>((resolve) => (ack = resolve));
    },
  } as unknown as RecordProducer;
  const stop = new AbortController();
  const running = runnerWith(producer).run(stop.signal);
  while (sent.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  t.is(sent.length, 1, 'one pack');
  t.true(sent[0]!.length > 4_096);
  t.deepEqual(arenaPoolStats(), before, 'not while Kafka has not answered');
  ack();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const after = arenaPoolStats();
  t.is(after.arenas, before.arenas + 1);
  t.is(after.bytes - before.bytes, sent[0]!.buffer.byteLength, 'the pack\'s own buffer');
  stop.abort();
  await running;
});

test.serial('a refused pack\'s buffer is left to the GC, not reused', async (t) => {
  const before = arenaPoolStats();
  const sent: Buffer[] = [];
  const producer = {
    send: (_topic: string, messages: { value: Buffer }[]) => {
      for (const m of messages) sent.push(m.value);
      return Promise.reject(new Error('NOT_LEADER_FOR_PARTITION'));
    },
  } as unknown as RecordProducer;
  const stop = new AbortController();
  const running = runnerWith(producer).run(stop.signal);
  await t.throwsAsync(running, { message: /produce to .* failed: NOT_LEADER_FOR_PARTITION/ });
  t.is(sent.length, 1);
  // The pack may have taken the first test's buffer from the pool; it gave nothing back.
  t.true(arenaPoolStats().arenas <= before.arenas, 'nothing returned');
  // Had it been returned, it would be the next one of its size (the pool hands out the last returned first).
  t.not(allocRecordValue(sent[0]!.length).buffer, sent[0]!.buffer, 'the refused buffer is not handed out again');
  stop.abort();
});
