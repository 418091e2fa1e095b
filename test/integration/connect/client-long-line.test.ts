import test from 'ava';
import { LineParseThreads } from '../../../src/connect/client/index.js';
import { ErrorCode } from '../../../src/errors.js';
import { appKey, assertNothingLostNothingTwice, connectClient, emulator, hasEvents, poison, read, reconnects } from './client-harness.js';

// Alone in its file and serial: RSS is process-wide, so nothing else may run beside it.
// Twice: inflated here, and inflated on a parse thread from the first byte (its memory is this process's too).
for (const onThread of [false, true]) {
  test.serial(`a 64 MB line is one oversized poison record, skipped in bounded memory; the stream goes on${onThread ? ' (stream inflated on a thread)' : ''}`, async (t) => {
    const lineParser = onThread ? new LineParseThreads({ threads: 1, minLines: 64, inflateMinBytes: 1 }) : undefined;
    if (lineParser) t.teardown(() => lineParser.close());
    const emu = await emulator(t, { totalEvents: 500 });
    emu.setFault(appKey, { longLineAfterEvents: 200, longLineBytes: 64 * 1024 * 1024, connections: 1 });
    const client = connectClient(t, emu, { idleTimeoutMs: 10_000 }, lineParser ? { lineParser } : {});
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const r = await read(client, hasEvents(500), { timeoutMs: 60_000 });
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    t.is(r.error, undefined);
    assertNothingLostNothingTwice(t, emu, r, 500);
    const p = poison(r);
    t.is(p.length, 1);
    t.is(p[0]?.code, ErrorCode.poisonOversizedLine);
    t.is(p[0]?.length, 64 * 1024 * 1024);
    t.is(p[0]?.raw.length, 1024);
    t.true(p[0]?.raw.toString().startsWith('{"id":"00000000-0000-4000-8000-000000000000"'));
    t.is(p[0]?.afterOffset, r.events[199]?.offset);
    t.is(reconnects(r).length, 0);
    const growthMb = (peak - baseline) / 1024 / 1024;
    t.log(`RSS growth ${growthMb.toFixed(1)} MB (emulator and client in one process), ${r.elapsedMs} ms`);
    t.true(growthMb < 100, `RSS grew ${growthMb.toFixed(1)} MB`);
    if (lineParser) t.is(lineParser.stats().streamsOffThread, 1);
  });
}
