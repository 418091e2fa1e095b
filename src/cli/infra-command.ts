// `tributary infra up|down|status`: the embedded Kafka and DynamoDB Local for local use.
import type { Command } from 'commander';
import { infraDown, infraStatus, infraUp } from '../infra/local-infra.js';
import { loadNodeConfig } from '../config/node-config.js';
import { parseInstanceName, parsePort } from './parse.js';

export function registerInfraCommands(program: Command): void {
  const infra = program
    .command('infra')
    .description('start, stop or inspect the embedded Kafka (KRaft) and DynamoDB Local servers');

  infra
    .command('up')
    .description('start Kafka and DynamoDB Local (jars fetched from Maven Central on first use) and leave them running')
    .option('--config <file>', 'node config file (JSON)')
    .option('--kafka-port <port>', 'Kafka port on 127.0.0.1 (0 = any free port)', parsePort)
    .option('--dynamodb-port <port>', 'DynamoDB Local port on 127.0.0.1 (0 = any free port)', parsePort)
    .option('--json', 'print the result as JSON')
    .option('--instance <name>', 'a separate set of servers, data and state (default "default")', parseInstanceName)
    .action(async (opts: { config?: string; kafkaPort?: number; dynamodbPort?: number; json?: boolean; instance?: string }) => {
      const config = loadNodeConfig({ file: opts.config });
      const state = await infraUp({
        ...(config.infra.cacheDir ? { cacheDir: config.infra.cacheDir } : {}),
        ...(opts.instance ? { instance: opts.instance } : {}),
        kafkaPort: opts.kafkaPort ?? config.infra.kafkaPort,
        dynamodbPort: opts.dynamodbPort ?? config.infra.dynamodbPort,
        kafkaHeapMb: config.infra.kafkaHeapMb,
        dynamodbHeapMb: config.infra.dynamodbHeapMb,
        persistent: true,
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(state.servers, null, 2)}\n`);
      else {
        for (const s of state.servers) {
          process.stdout.write(`${s.name.padEnd(9)} ${s.address}${s.pid ? `  (pid ${s.pid})` : '  (external)'}\n`);
        }
        const env = state.servers.map((s) => `${s.name === 'kafka' ? 'KAFKA_BROKERS' : 'DYNAMODB_ENDPOINT'}=${s.address}`);
        process.stdout.write(`\nexport ${env.join(' ')}\n`);
      }
    });

  infra
    .command('down')
    .description('stop the servers started by `infra up`, by their process ids')
    .option('--config <file>', 'node config file (JSON)')
    .option('--purge', "also delete the servers' data (Kafka topics, DynamoDB tables); the downloaded jars stay")
    .option('--instance <name>', 'the instance `infra up --instance` started (default "default")', parseInstanceName)
    .action(async (opts: { config?: string; purge?: boolean; instance?: string }) => {
      const config = loadNodeConfig({ file: opts.config });
      const stopped = await infraDown({
        ...(config.infra.cacheDir ? { cacheDir: config.infra.cacheDir } : {}),
        ...(opts.instance ? { instance: opts.instance } : {}),
        purge: opts.purge === true,
      });
      if (stopped.length === 0) process.stdout.write('nothing was running\n');
      for (const s of stopped) process.stdout.write(`stopped ${s.name} ${s.address}${s.pid ? ` (pid ${s.pid})` : ''}\n`);
      if (opts.purge) process.stdout.write('deleted their data (the next `infra up` starts empty)\n');
    });

  infra
    .command('status')
    .description('show the servers of `infra up`, their addresses and whether they answer')
    .option('--config <file>', 'node config file (JSON)')
    .option('--json', 'print the result as JSON')
    .option('--instance <name>', 'the instance `infra up --instance` started (default "default")', parseInstanceName)
    .action(async (opts: { config?: string; json?: boolean; instance?: string }) => {
      const config = loadNodeConfig({ file: opts.config });
      const statuses = await infraStatus({ ...(config.infra.cacheDir ? { cacheDir: config.infra.cacheDir } : {}), ...(opts.instance ? { instance: opts.instance } : {}) });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`);
      } else if (statuses.length === 0) {
        process.stdout.write('not running (start with: tributary infra up)\n');
      } else {
        for (const s of statuses) {
          const state = s.answering ? 'up' : s.running ? 'not answering' : 'down';
          process.stdout.write(`${s.name.padEnd(9)} ${s.address.padEnd(24)} ${state}${s.pid ? `  pid ${s.pid}` : '  external'}${s.logFile ? `  log ${s.logFile}` : ''}\n`);
        }
      }
      if (statuses.length === 0 || !statuses.every((s) => s.answering)) process.exitCode = 3;
    });
}
