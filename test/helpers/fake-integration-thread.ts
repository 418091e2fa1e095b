// A stand-in for src/node/integration-thread.ts in the unit tests of IntegrationThreads: it speaks
// the same protocol and keeps the applied specs as "running" integrations, without clients or
// actors, so placement, ordering, restarts and fallbacks can be tested without servers.
// `env.FAKE_THREAD_FAIL_START` = "1": it reports a failed start; `env.FAKE_THREAD_SLOW_START` =
// "<index>:<ms>": that thread says ready after ms. An applied spec whose sink URL ends in `/crash`:
// the thread exits with code 3 (a crash); in `/block`: its removal blocks the thread's event loop
// for good; in `/block-now`: the apply does. A removal of an id starting with `stuck` is answered false (not stopped in time).
import { parentPort, workerData } from 'node:worker_threads';
import type { IntegrationSnapshot } from '../../src/actors/integration-actor.js';
import type { FromThread, IntegrationThreadData, ToThread } from '../../src/node/integration-thread-wire.js';

const port = parentPort!;
const data = workerData as IntegrationThreadData;
const post = (m: FromThread) => port.postMessage(m);
const running = new Map<string, IntegrationSnapshot>();
let flagNames = '';
const blocking = new Set<string>();
const reason = () => `thread ${data.index}${flagNames ? `, flags ${flagNames}` : ''}`;

if (data.env.FAKE_THREAD_FAIL_START === '1') {
  post({ type: 'startFailed', message: 'no broker' });
} else {
  port.on('message', (m: ToThread) => {
    switch (m.op) {
      case 'apply': {
        const sink = m.spec.sink as { url?: string };
        if (sink.url?.endsWith('/crash')) process.exit(3);
        if (sink.url?.endsWith('/block')) blocking.add(m.spec.id);
        if (sink.url?.endsWith('/block-now')) for (;;);
        running.set(m.spec.id, { integrationId: m.spec.id, appKey: m.spec.app.key, tier: m.spec.app.size, sinkType: m.spec.sink.type, status: 'running', statusReason: reason(), checkpoint: m.position, epoch: 1, source: true, sink: true, sinkParked: false, sinkChecked: true });
        post({ type: 'report', report: { time: 1, integrationId: m.spec.id, appKey: m.spec.app.key, tier: m.spec.app.size, kind: 'recovery', errorClass: 'retryable', fingerprint: `applied-on-${data.index}`, nodeId: data.nodeId } });
        return;
      }
      case 'removeMany':
        if (m.integrationIds.some((id) => blocking.has(id))) for (;;);
        for (const id of m.integrationIds) running.delete(id);
        post({ type: 'answer', id: m.id, value: !m.integrationIds.some((id) => id.startsWith('stuck')) });
        return;
      case 'replay':
        post({ type: 'answer', id: m.id, value: running.has(m.integrationId) ? { ok: true, partitions: data.index + 1 } : { ok: false, error: 'not here' } });
        return;
      case 'status':
        post({ type: 'answer', id: m.id, value: [...running.values()] });
        return;
      case 'flags':
        flagNames = Object.keys(m.flags.fleet).join(',');
        for (const s of running.values()) s.statusReason = reason();
        return;
      case 'ping':
        post({ type: 'answer', id: m.id, value: true });
        return;
      case 'shutdown':
        running.clear();
        post({ type: 'answer', id: m.id, value: true });
        port.close();
        return;
    }
  });
  const [slowIndex, slowMs] = (data.env.FAKE_THREAD_SLOW_START ?? '').split(':');
  if (slowIndex === String(data.index)) setTimeout(() => post({ type: 'ready' }), Number(slowMs));
  else post({ type: 'ready' });
}
