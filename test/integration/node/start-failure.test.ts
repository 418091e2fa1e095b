// A node whose start fails part-way (here: its HTTP port is taken, the last start-up step) stops
// what it had already started — flags watcher, alerting, watchdog, guardian, control plane,
// Kafka clients — before the error reaches the caller: no timer or socket of it outlives the call.
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { parseNodeConfig } from '../../../src/config/node-config.js';
import { startNode } from '../../../src/node/node.js';
import { createLogger } from '../../../src/observability/logger.js';
import { brokers, dynamoEndpoint, uniq } from '../../helpers/infra.js';

const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;

test('a start that fails at its last step leaves no timers or sockets behind', async (t) => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => taken.close());
  const port = (taken.address() as AddressInfo).port;
  const run = uniq('startfail');
  t.teardown(() => rmSync(`/tmp/${run}`, { recursive: true, force: true }));
  const config = parseNodeConfig({
    local: true,
    kafka: { brokers: brokers() },
    dynamodb: { endpoint: dynamoEndpoint(), table: uniq('tributary-state') },
    http: { host: '127.0.0.1', port },
    control: { topic: `${run}.control` },
    log: { level: 'error' },
  });
  const before = handles();
  const t0 = Date.now();
  await t.throwsAsync(startNode({ config, logger: createLogger({ level: 'error', name: 'startfail' }), control: true, dataDir: `/tmp/${run}` }), { message: /EADDRINUSE|address already in use/i });
  t.log(`start failed after ${Date.now() - t0} ms`);
  // Sockets close asynchronously; the flags watcher polls every 2 s: wait past one poll.
  await new Promise((r) => setTimeout(r, 3_000));
  const after = handles();
  t.log(`timers and sockets: ${before} before, ${after} after the failed start`);
  t.true(after <= before, `left behind: ${process.getActiveResourcesInfo().join(', ')}`);
});
