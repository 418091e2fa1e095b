// The source's produce order: a chunk's full batches waiting for an in-flight slot are produced
// before the linger timer may flush the batch after them (per-device order in Kafka), and the
// chunk arrays handed to the runner are emptied once taken (an idle stream's last chunk is not
// kept alive by the runner's waiting frame). The client and the producer are in-memory stand-ins
// for this ordering logic; the pipeline on a real broker is test/e2e/pipeline.test.ts.
import test from 'ava';
import type { ConnectClient, EventItem, StreamItem } from '../../../src/connect/client/index.js';
import { envelopeOf } from '../../../src/connect/event.js';
import type { RecordProducer } from '../../../src/kafka/produce-queue.js';
import { createLogger } from '../../../src/observability/logger.js';
import { SourceRunner } from '../../../src/pipeline/source-runner.js';
import type { StateWriter } from '../../../src/state/state-writer.js';

function event(n: number): EventItem {
  const offset = String(1_000 + n);
  const e = { id: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`, type: 'CUSTOM', offset, occurred: '2026-01-01T00:00:00.000Z', processed: '2026-01-01T00:00:00.000Z' };
  return { kind: 'event', event: envelopeOf(e), raw: Buffer.from(JSON.stringify(e)), offset };
}

/** Yields the given chunks, then waits until aborted, as an idle stream does. */
function clientOf(chunks: StreamItem[][]): ConnectClient {
  return {
    confirmedOffset: undefined,
    confirm: () => undefined,
    async *batches(signal: AbortSignal) {
      for (const c of chunks) yield c;
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    },
  } as unknown as ConnectClient;
}

test('full batches waiting for an in-flight slot are produced before the linger flush of the events after them', async (t) => {
  const sent: string[][] = [];
  const acks: (() => void)[] = [];
  const producer = {
    send: (_topic: string, messages: { headers?: Record<string, unknown>; value: Buffer }[]) => {
      sent.push(messages.map((m) => (JSON.parse(m.value.toString()) as { offset: string }).offset));
      return new Promise<void>((resolve) => acks.push(resolve));
    },
  } as unknown as RecordProducer;
  const state = { count: () => undefined, setCheckpoint: () => undefined } as unknown as StateWriter;
  // The first chunk leaves an open batch and arms the linger timer; the second closes [1,2] and
  // [3,4] and opens [5], all before the timer fires.
  const first: StreamItem[] = [event(1)];
  const second: StreamItem[] = [2, 3, 4, 5].map(event);
  const runner = new SourceRunner({
    integrationId: 'i1',
    client: clientOf([first, second]),
    producer,
    state,
    logger: createLogger({ level: 'silent' }),
    batch: { maxCount: 2, maxBytes: 1 << 20, lingerMs: 30 },
    maxInFlight: 1,
  });
  const stop = new AbortController();
  const running = runner.run(stop.signal);
  // [1,2] is produced; [3,4] waits for the slot; the timer fires on [5] meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.deepEqual(sent, [['1001', '1002']], 'nothing overtakes the batch waiting for its slot');
  t.deepEqual([first.length, second.length], [0, 0], 'the chunks were emptied once taken');
  acks.shift()!();
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.deepEqual(sent, [['1001', '1002'], ['1003', '1004'], ['1005']], 'then the waiting batch, then the open one');
  for (const ack of acks.splice(0)) ack();
  stop.abort();
  await running;
  t.is(runner.watermark, '1005');
});
