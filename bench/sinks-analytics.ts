// Benchmark: events/s one analytics sink instance delivers to its loopback vendor server
// (test/helpers/vendor-servers.ts), beside the webhook sink to a loopback receiver, same run.
//
//   node --import tsx bench/sinks-analytics.ts                 # ~10 s per sink, 1 KB events
//   node --import tsx bench/sinks-analytics.ts --seconds 5 --batch 1000
//
// Each sink gets batches of `--batch` ~1 KB CUSTOM Connect events (random padding) in a loop
// for `--seconds`; only records the sink reports `delivered` count, and the server's own
// ingested count is checked against it after every write. Server and sink share this process
// (one event loop), so the figures are the sink's cost plus the server's parsing.
import { availableParallelism, cpus } from 'node:os';
import { createAmplitudeSink } from '../src/sinks/amplitude/service.js';
import { validateAmplitudeConfig } from '../src/sinks/amplitude/config.js';
import { createMixpanelSink } from '../src/sinks/mixpanel/service.js';
import { validateMixpanelConfig } from '../src/sinks/mixpanel/config.js';
import { createSegmentSink } from '../src/sinks/segment/service.js';
import { validateSegmentConfig } from '../src/sinks/segment/config.js';
import { createWebhookSink } from '../src/sinks/webhook/service.js';
import { validateWebhookConfig } from '../src/sinks/webhook/config.js';
import type { Sink } from '../src/sinks/types.js';
import { startHttpReceiver, type HttpReceiver } from '../test/helpers/http-receiver.js';
import { makeRecords, testSinkContext } from '../test/helpers/sink-compliance.js';
import { startAmplitudeServer, startMixpanelServer, startSegmentServer } from '../test/helpers/vendor-servers.js';
import { benchCommand, parseIntIn } from './args.js';

const { seconds, batch: batchSize } = benchCommand('bench:sinks-analytics', 'the analytics sinks against their vendor servers, beside the webhook sink')
  .option('--seconds <n>', 'seconds per sink', parseIntIn(1, 600), 10)
  .option('--batch <n>', 'records per batch handed to a sink', parseIntIn(1, 100_000), 1_000)
  .parse()
  .opts<{ seconds: number; batch: number }>();
const ctx = testSinkContext({ integrationId: 'bench' });

interface Subject {
  name: string;
  start(): Promise<{ server: HttpReceiver; sink: Sink; note: string }>;
}

const subjects: Subject[] = [
  {
    name: 'webhook (ndjson, loopback receiver)',
    async start() {
      const server = await startHttpReceiver();
      const sink = await createWebhookSink(validateWebhookConfig({ type: 'webhook', url: server.url, maxBatchEvents: batchSize }, { local: true }), ctx);
      return { server, sink, note: 'one request per batch, 4 connections' };
    },
  },
  {
    name: 'amplitude (HTTP V2)',
    async start() {
      const server = await startAmplitudeServer({ apiKey: 'k' });
      const sink = await createAmplitudeSink(validateAmplitudeConfig({ type: 'amplitude', apiKey: { value: 'k' }, baseUrl: server.baseUrl, maxEventsPerRequest: 250 }, { local: true }), ctx);
      return { server, sink, note: '250 events/request, adaptive 1–8' };
    },
  },
  {
    name: 'mixpanel (/import, gzip)',
    async start() {
      const server = await startMixpanelServer({ projectToken: 't' });
      const sink = await createMixpanelSink(validateMixpanelConfig({ type: 'mixpanel', auth: { type: 'projectToken', token: { value: 't' } }, baseUrl: server.baseUrl, maxEventsPerRequest: 250 }, { local: true }), ctx);
      return { server, sink, note: '250 events/request, gzip, adaptive 1–8' };
    },
  },
  {
    name: 'segment (/v1/batch)',
    async start() {
      const server = await startSegmentServer({ writeKey: 'w' });
      const sink = await createSegmentSink(validateSegmentConfig({ type: 'segment', writeKey: { value: 'w' }, baseUrl: server.baseUrl }, { local: true }), ctx);
      return { server, sink, note: '≤ 500 KB/request (~300 events), adaptive 1–8' };
    },
  },
];

async function measure(subject: Subject): Promise<{ eventsPerSec: number; requests: number; mbPerSec: number; note: string }> {
  const { server, sink, note } = await subject.start();
  try {
    // ~1 KB events: a CUSTOM event with ~700 bytes of random padding.
    const pool = Array.from({ length: 8 }, (_, i) => makeRecords(batchSize, { padBytes: 700, startOffset: i * batchSize }));
    const eventBytes = pool[0]![0]!.value.length;
    await sink.write(pool[0]!.slice(0, 50), new AbortController().signal); // warm-up: connections, JIT
    server.reset();
    let delivered = 0;
    let requests = 0;
    let bytes = 0;
    const started = performance.now();
    let i = 0;
    while (performance.now() - started < seconds * 1000) {
      const batch = pool[i++ % pool.length]!;
      const result = await sink.write(batch, new AbortController().signal);
      const ok = result.outcomes.filter((o) => o.status === 'delivered').length;
      if (ok !== batch.length || server.delivered().length !== ok) throw new Error(`${subject.name}: ${ok} delivered, server holds ${server.delivered().length}`);
      delivered += ok;
      requests += result.requests;
      bytes += ok * eventBytes;
      server.reset(); // keep memory flat: counts are taken above
    }
    const elapsed = (performance.now() - started) / 1000;
    return { eventsPerSec: delivered / elapsed, requests, mbPerSec: bytes / elapsed / 1e6, note };
  } finally {
    await sink.close();
    await server.close();
  }
}

const rows: string[] = [];
for (const s of subjects) {
  const r = await measure(s);
  rows.push(`| ${s.name} | ${Math.round(r.eventsPerSec).toLocaleString('en-US')} | ${r.mbPerSec.toFixed(1)} | ${r.requests} | ${r.note} |`);
  process.stderr.write(`${s.name}: ${Math.round(r.eventsPerSec)} events/s\n`);
}
console.log(`Machine: ${availableParallelism()} CPUs, ${cpus()[0]?.model ?? 'unknown'}, Node ${process.version}; ${seconds} s per sink, batches of ${batchSize} ~1 KB Connect events.\n`);
console.log('| sink → loopback server | events/s | MB/s (Connect JSON) | requests | shape |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(r);
