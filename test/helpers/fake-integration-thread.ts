// A stand-in for src/node/integration-thread.ts in the unit tests of IntegrationThreads: it speaks
// the same protocol and keeps the applied specs as "running" integrations, without clients or
// actors, so placement, ordering, restarts and fallbacks can be tested without servers.
// `env.FAKE_THREAD_FAIL_START` = "1": it reports a failed start; an applied spec whose sink URL
// ends in `/crash`: the thread exits with code 3 (a crash).
import { parentPort, workerData } from 'node:worker_threads';
import type { IntegrationSnapshot } from '../../src/actors/integration-actor.js';
import type { FromThread, IntegrationThreadData, ToThread } from '../../src/node/integration-thread-wire.js';

const port = parentPort!;
const data = workerData as IntegrationThreadData;
const post = (m: FromThread) => port.postMessage(m);
const running = new Map<string, IntegrationSnapshot>();

if (data.env.FAKE_THREAD_FAIL_START === '1') {
  post({ type: 'startFailed', message: 'no broker' });
} else {
  port.on('message', (m: ToThread) => {
    switch (m.op) {
      case 'apply': {
        const sink = m.spec.sink as { url?: string };
        if (sink.url?.endsWith('/crash')) process.exit(3);
        running.set(m.spec.id, { integrationId: m.spec.id, appKey: m.spec.app.key, tier: m.spec.app.size, sinkType: m.spec.sink.type, status: 'running', statusReason: `thread ${data.index}`, checkpoint: m.position, epoch: 1, source: true, sink: true, sinkParked: false, sinkChecked: true });
        post({ type: 'report', report: { time: 1, integrationId: m.spec.id, appKey: m.spec.app.key, tier: m.spec.app.size, kind: 'recovery', errorClass: 'retryable', fingerprint: `applied-on-${data.index}`, nodeId: data.nodeId } });
        return;
      }
      case 'removeMany':
        for (const id of m.integrationIds) running.delete(id);
        post({ type: 'answer', id: m.id, value: true });
        return;
      case 'replay':
        post({ type: 'answer', id: m.id, value: running.has(m.integrationId) ? { ok: true, partitions: data.index + 1 } : { ok: false, error: 'not here' } });
        return;
      case 'status':
        post({ type: 'answer', id: m.id, value: [...running.values()] });
        return;
      case 'flags':
        for (const s of running.values()) s.statusReason = `thread ${data.index}, flags ${Object.keys(m.flags.fleet).join(',')}`;
        return;
      case 'shutdown':
        running.clear();
        post({ type: 'answer', id: m.id, value: true });
        port.close();
        return;
    }
  });
  post({ type: 'ready' });
}
