// `tributary local` (what `npm start` runs): Tributary on embedded defaults on one machine — the
// embedded Kafka and DynamoDB (or KAFKA_BROKERS / DYNAMODB_ENDPOINT), the Connect emulator with
// three demo apps, a local webhook receiver and a file sink, three demo integrations written to
// the control topic, a node in control mode and a live view (docs/local-mode.md).
import { InvalidArgumentError, type Command } from 'commander';
import { demoFaults, runLocalMode, type DemoFault } from '../devtools/local-mode.js';
import { parseDurationMs } from './parse.js';

function parseDemoFault(value: string): DemoFault {
  if (!(demoFaults as readonly string[]).includes(value)) throw new InvalidArgumentError(`"${value}" is not one of ${demoFaults.join(', ')}`);
  return value as DemoFault;
}

interface LocalOptions {
  config?: string;
  duration?: number;
  json?: boolean;
  demoFault: DemoFault;
  faultAfter: number;
  faultFor: number;
  controlTopic?: string;
  dir: string;
  drainTimeout: number;
}

export function registerLocalCommand(program: Command): void {
  program
    .command('local')
    .description(
      'run Tributary locally: embedded Kafka and DynamoDB Local, the Connect emulator with three demo apps, a webhook receiver and a file sink, ' +
        'three demo integrations and a node, with a live view (keys: f sink down, c Connect errors, q quit); Ctrl-C stops it',
    )
    .option('--config <file>', 'node config file (JSON); without it local mode uses short alerting thresholds (docs/local-mode.md)')
    .option('--duration <duration>', 'stop by itself after this long (e.g. 60s), drain and summarise', parseDurationMs)
    .option('--json', 'print a JSON summary at the end (stdout); exit 0 only if every served event was delivered')
    .option('--demo-fault <fault>', `inject a fault after --fault-after, for --fault-for: ${demoFaults.join(', ')}`, parseDemoFault, 'none')
    .option('--fault-after <duration>', 'when the demo fault starts', parseDurationMs, 20_000)
    .option('--fault-for <duration>', 'how long the demo fault lasts', parseDurationMs, 50_000)
    .option('--control-topic <topic>', 'control topic (and <topic>.nodes group) to use instead of tributary.control')
    .option('--dir <dir>', 'where data and the node log go', '.tributary/local')
    .option('--drain-timeout <duration>', 'how long the end of a --duration run waits for every served event to be delivered', parseDurationMs, 45_000)
    .action(async (opts: LocalOptions) => {
      process.exitCode = await runLocalMode({
        configFile: opts.config,
        durationMs: opts.duration,
        json: opts.json ?? false,
        demoFault: opts.demoFault,
        faultAfterMs: opts.faultAfter,
        faultForMs: opts.faultFor,
        controlTopic: opts.controlTopic,
        dir: opts.dir,
        drainTimeoutMs: opts.drainTimeout,
      });
    });
}
