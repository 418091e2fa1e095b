// An integration thread (integration-threads.ts): a guardian of its own with the node's
// integrations the main thread hands it, on clients of its own (node-clients.ts). Its failure
// reports go to the main thread, where the node's alerting tallies them; its log lines go to the
// process's stdout like the main thread's.
import { parentPort, workerData } from 'node:worker_threads';
import { startGuardian } from '../actors/guardian.js';
import type { IntegrationSnapshot } from '../actors/integration-actor.js';
import type { FlagOverrides } from '../control/flags.js';
import { errorMessage } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { startThreadStats } from '../observability/process-stats.js';
import { createNodeClients } from './node-clients.js';
import type { FromThread, IntegrationThreadData, ReplayAnswer, ToThread } from './integration-thread-wire.js';
import { nameThisThread } from './module-worker.js';

if (!parentPort) throw new Error('integration-thread.ts runs only as a worker thread');
const port = parentPort;
const data = workerData as IntegrationThreadData;
const { config, nodeId } = data;
const post = (m: FromThread) => port.postMessage(m);
nameThisThread(`tributary-i${data.index}`);

const logger = createLogger({ level: config.log.level }).child({ nodeId, thread: data.index });
const metrics = createMetrics(config.metrics, (err) => logger.warn({ err: err.message }, 'statsd send failed'));
const clients = createNodeClients(config, logger, { clientId: `${config.kafka.clientId}-${nodeId}-t${data.index}`, parseThreads: true });
let flags: FlagOverrides = data.flags;

async function main(): Promise<void> {
  try {
    await Promise.all([clients.producer.connect(), clients.admin.connect()]);
  } catch (err) {
    post({ type: 'startFailed', message: `Kafka ${config.kafka.brokers.join(',')} unreachable: ${errorMessage(err)}` });
    await Promise.allSettled([clients.close(), metrics.close()]);
    port.close();
    return;
  }
  const { close, dynamo: _dynamo, ...shared } = clients;
  const guardian = startGuardian(
    {
      ...shared,
      nodeId,
      config,
      logger,
      dataDir: data.dataDir,
      restartPolicy: data.restartPolicy,
      metrics,
      probeIntervalMs: data.probeIntervalMs,
      env: data.env,
      flagOverrides: () => flags,
    },
    (report) => post({ type: 'report', report }),
  );
  const stopStats = startThreadStats(metrics, 10_000, String(data.index), clients.lineParser);
  const answer = (id: number, value: IntegrationSnapshot[] | ReplayAnswer | boolean) => post({ type: 'answer', id, value });
  port.on('message', (m: ToThread) => {
    switch (m.op) {
      case 'apply':
        guardian.apply(m.spec, m.position);
        return;
      case 'removeMany':
        void guardian.removeMany(m.integrationIds).then(
          () => answer(m.id, true),
          () => answer(m.id, false),
        );
        return;
      case 'replay':
        void guardian.replay(m.integrationId, m.from).then(
          (r) => answer(m.id, r),
          (err) => answer(m.id, { ok: false, error: errorMessage(err) }),
        );
        return;
      case 'status':
        void guardian.status().then(
          (all) => answer(m.id, all),
          () => answer(m.id, []),
        );
        return;
      case 'flags':
        flags = m.flags;
        guardian.flagsChanged();
        return;
      case 'ping':
        answer(m.id, true);
        return;
      case 'shutdown':
        stopStats();
        void guardian
          .shutdown()
          .catch((err) => logger.warn({ err: errorMessage(err) }, 'integration thread: drain failed'))
          .then(() => Promise.allSettled([close(), metrics.close()]))
          .then(() => {
            answer(m.id, true);
            port.close();
          });
        return;
    }
  });
  post({ type: 'ready' });
}

void main();
