// `tributary local` (what `npm start` runs): Tributary on embedded defaults on one machine.
// Starts the embedded Kafka and DynamoDB (or uses KAFKA_BROKERS / DYNAMODB_ENDPOINT), reports
// what runs where, and on Ctrl-C (or after --duration) stops every server it started.
import type { Command } from 'commander';
import { infraDown, infraUp } from '../infra/local-infra.js';
import { loadNodeConfig } from '../config/node-config.js';
import { parseDurationMs } from './parse.js';

export function registerLocalCommand(program: Command): void {
  program
    .command('local')
    .description('run Tributary locally on embedded defaults (embedded Kafka and DynamoDB Local); Ctrl-C stops it')
    .option('--config <file>', 'node config file (JSON)')
    .option('--duration <duration>', 'stop by itself after this long (e.g. 60s)', parseDurationMs)
    .option('--json', 'print a JSON summary at the end')
    .action(async (opts: { config?: string; duration?: number; json?: boolean }) => {
      const config = loadNodeConfig({ file: opts.config, overrides: [{ path: ['local'], value: true }] });
      const cache = config.infra.cacheDir ? { cacheDir: config.infra.cacheDir } : {};
      const state = await infraUp({
        ...cache,
        instance: 'local',
        ownerPid: process.pid,
        kafkaPort: config.infra.kafkaPort,
        dynamodbPort: config.infra.dynamodbPort,
        kafkaHeapMb: config.infra.kafkaHeapMb,
        dynamodbHeapMb: config.infra.dynamodbHeapMb,
      });
      const lines = state.servers.map((s) => `  ${s.name.padEnd(9)} ${s.address}${s.pid ? ` (pid ${s.pid}, log ${s.logFile})` : ' (external)'}`);
      process.stderr.write(`Tributary local is running:\n${lines.join('\n')}\nPress Ctrl-C to stop.\n`);
      const started = Date.now();
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if (opts.duration !== undefined) setTimeout(stop, opts.duration).unref();
      });
      process.stderr.write('stopping…\n');
      await infraDown({ ...cache, instance: 'local' });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ok: true, ranMs: Date.now() - started, servers: state.servers }, null, 2)}\n`);
      }
      process.stderr.write(`stopped. Server logs were in ${state.dir}\n`);
    });
}
