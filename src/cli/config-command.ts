// `tributary config check|show`: validate a node config (file + environment) before deploying it.
import type { Command } from 'commander';
import { loadNodeConfig } from '../config/node-config.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('validate and show the node configuration');
  config
    .command('check')
    .description('validate a config file merged with the environment; exits non-zero naming each bad key')
    .option('--config <file>', 'node config file (JSON)')
    .action((opts: { config?: string }) => {
      loadNodeConfig({ file: opts.config });
      process.stdout.write('config OK\n');
    });
  config
    .command('show')
    .description('print the effective configuration (defaults applied) as JSON')
    .option('--config <file>', 'node config file (JSON)')
    .action((opts: { config?: string }) => {
      process.stdout.write(`${JSON.stringify(loadNodeConfig({ file: opts.config }), null, 2)}\n`);
    });
}
