// "Cattle not pets" start-up: /readyz turns green only after each sink on the node has run its
// start-up check (one probe, no data). A sink whose credentials are refused at start is halted as
// misconfigured before any batch is sent — and does not hold readiness back — while a slow but
// healthy sink delays readiness until its probe answers.
import test from 'ava';
import { StateStore } from '../../src/state/state-store.js';
import { eventually, testDynamo } from '../helpers/infra.js';
import { startFixture, startInProcessNode } from '../helpers/pipeline.js';

async function readyz(url: string): Promise<{ status: number; body: { ready?: boolean; checks?: Record<string, string> } }> {
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as { ready?: boolean; checks?: Record<string, string> } };
}

test('readiness waits for the sinks\' start-up checks; a sink refusing our credentials at start halts before any batch', async (t) => {
  const f = await startFixture(
    [
      { size: 'medium', totalEvents: 600, rate: 100 },
      { size: 'medium', totalEvents: 600, rate: 100 },
    ],
    { receivers: 2 },
  );
  t.teardown(() => f.close());
  const [slow, refusing] = f.receivers as [(typeof f.receivers)[0], (typeof f.receivers)[0]];
  slow.setDelay(4_000);
  refusing.failNext(401, Infinity);
  const node = await startInProcessNode(f, { probeIntervalMs: 60_000 });
  t.teardown(() => node.shutdown());

  // The slow sink's probe takes 4 s: meanwhile the node says why it is not ready.
  const early = await readyz(node.url);
  t.is(early.status, 503);
  t.regex(early.body.checks?.sinks ?? '', /sink start-up check\(s\) running|control partitions/);
  const readyAt = await eventually(async () => ((await readyz(node.url)).status === 200 ? Date.now() : undefined), 30_000, '/readyz 200');
  t.is((await readyz(node.url)).body.checks?.sinks, 'ok');
  t.log(`ready ${readyAt - (slow.requests[0]?.at ?? readyAt)} ms after the slow sink's probe arrived`);

  // The first request each receiver saw was the probe: no events, marked as a probe.
  await slow.waitFor((rx) => rx.requests.length >= 1, 10_000, 'the slow sink probed');
  t.is(slow.requests[0]!.eventIds.length, 0);
  t.is(slow.requests[0]!.headers['x-tributary-probe'], '1');
  t.true((readyAt ?? 0) >= slow.requests[0]!.at, 'ready only after the slow probe arrived');

  // The refusing sink: misconfigured, and only probes ever reached it (no data was sent).
  const state = new StateStore(testDynamo(), f.table);
  await eventually(async () => ((await state.get(f.specs[1]!.id))?.status === 'misconfigured' ? true : undefined), 30_000, 'refusing sink misconfigured');
  t.true(refusing.requests.length >= 1);
  t.true(refusing.requests.every((r) => r.eventIds.length === 0 && r.headers['x-tributary-probe'] === '1'), 'no batch sent to a sink that refused our credentials');

  // The slow one delivers everything it was served, despite the 4 s per request.
  slow.setDelay(undefined);
  const served = () => new Set(f.emulator.served(f.specs[0]!.app.key).map((e) => e.id));
  await slow.waitFor((rx) => served().size >= 600 && [...served()].every((id) => rx.deliveredSet().has(id)), 60_000, 'slow sink delivered all');
});
