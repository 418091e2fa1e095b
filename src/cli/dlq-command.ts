// `tributary dlq replay <id>`: re-drive an integration's dead-letter topic through its sink.
import type { Command } from 'commander';
import { loadNodeConfig, resolveNodeId } from '../config/node-config.js';
import { resolveSecret } from '../control/secrets.js';
import { loadSpecFiles } from '../control/spec-files.js';
import { ErrorCode, TributaryError } from '../errors.js';
import { createIdempotentProducer, createKafka } from '../kafka/kafka.js';
import { ProduceQueue } from '../kafka/produce-queue.js';
import { createLogger } from '../observability/logger.js';
import { replayDlq } from '../pipeline/dlq-replay.js';
import { buildSink, validateSinkConfig } from '../sinks/registry.js';
import { createDynamoClient, StateStore } from '../state/state-store.js';

export function registerDlqCommands(program: Command): void {
  const dlq = program.command('dlq').description("work with an integration's dead-letter topic (tributary.dlq.<id>)");
  dlq
    .command('replay <integrationId>')
    .description('deliver dead-lettered records again through the integration\'s sink; still-rejected ones return to the DLQ')
    .option('--config <file>', 'node config file (JSON)')
    .requiredOption('--specs <path>', 'spec file or directory holding the integration\'s spec (for its sink)')
    .option('--reason <classOrCode>', 'only records whose error class or code matches (e.g. permanent, sink_rejected)')
    .option('--data-dir <dir>', 'where file sinks write', '.tributary/data')
    .option('--json', 'print the report as JSON')
    .action(async (id: string, opts: { config?: string; specs: string; reason?: string; dataDir: string; json?: boolean }) => {
      const config = loadNodeConfig({ file: opts.config });
      const logger = createLogger({ level: config.log.level, name: 'tributary-dlq' });
      const spec = loadSpecFiles(opts.specs, config.local).specs.find((s) => s.id === id);
      if (!spec) throw new TributaryError(ErrorCode.specInvalid, `no valid spec with id "${id}" in ${opts.specs}`);
      const kafka = createKafka(config.kafka, logger, `${config.kafka.clientId}-dlq-replay`);
      const admin = kafka.admin();
      const producer = new ProduceQueue(() => createIdempotentProducer(kafka));
      const dynamo = createDynamoClient({ endpoint: config.dynamodb.endpoint, region: config.dynamodb.region });
      const sink = await buildSink(validateSinkConfig(spec.sink, { local: config.local }), {
        integrationId: id,
        appKey: spec.app.key,
        tier: spec.app.size,
        local: config.local,
        logger,
        resolveSecret: (ref) => resolveSecret(ref),
        dataDir: opts.dataDir,
      });
      try {
        await Promise.all([admin.connect(), producer.connect()]);
        const started = new Date().toISOString();
        const report = await replayDlq({ integrationId: id, kafka, admin, producer, sink, logger, ...(opts.reason ? { reason: opts.reason } : {}) });
        await new StateStore(dynamo, config.dynamodb.table).update(id, {
          lastReplay: { kind: 'dlq', reason: opts.reason ?? 'all', started, finished: new Date().toISOString(), node: resolveNodeId(config), ...report },
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else {
          process.stdout.write(
            `DLQ replay of ${id}: ${report.delivered} delivered, ${report.rejectedAgain} rejected again (back in the DLQ), ${report.skipped} skipped by --reason, ${report.notEvents} not events (Connect lines), ${report.considered} considered\n`,
          );
        }
        if (report.rejectedAgain > 0) process.exitCode = 4;
      } finally {
        await sink.close().catch(() => undefined);
        await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
        dynamo.destroy();
      }
    });
}
