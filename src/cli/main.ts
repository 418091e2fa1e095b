// The `tributary` command line: one program for operators, customers' tooling and tests.
import { Command, CommanderError } from 'commander';
import { ConfigError, TributaryError, errorMessage } from '../errors.js';
import { registerInfraCommands } from './infra-command.js';
import { registerFlagsCommands } from './flags-command.js';
import { registerIntegrationsCommands } from './integrations-command.js';
import { registerLocalCommand } from './local-command.js';
import { registerReceiveCommand } from './receive-command.js';
import { registerConfigCommands } from './config-command.js';
import { registerEmulateCommand } from './emulate-command.js';
import { registerNodeCommand } from './node-command.js';
import { registerDlqCommands } from './dlq-command.js';
import { registerSimulateCommands } from './simulate-command.js';

export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Streams Airship Connect events through Kafka into third-party systems.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  registerInfraCommands(program);
  registerLocalCommand(program);
  registerReceiveCommand(program);
  registerConfigCommands(program);
  registerEmulateCommand(program);
  registerNodeCommand(program);
  registerIntegrationsCommands(program);
  registerFlagsCommands(program);
  registerDlqCommands(program);
  registerSimulateCommands(program);
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0 through here; usage errors were already printed.
      return err.exitCode;
    }
    if (err instanceof ConfigError || err instanceof TributaryError) {
      process.stderr.write(`tributary: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`tributary: unexpected error: ${errorMessage(err)}\n${(err as Error)?.stack ?? ''}\n`);
    return 1;
  }
}

const code = await main(process.argv);
process.exitCode = code;
