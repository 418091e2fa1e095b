// `tributary emulate connect`: runs the Connect emulator (synthetic apps, fault knobs, admin API)
// for local runs, demos and chaos tests, until Ctrl-C / SIGTERM (or --duration).
import { InvalidArgumentError, type Command } from 'commander';
import { parseEmulatorOptions, readAppsFile, startConnectEmulator } from '../connect/emulator/index.js';
import { parseDurationMs, parsePort } from './parse.js';

/** Served when no --apps file is given: one app of each size tier. */
const demoApps = [
  { key: 'demo-small', token: 'demo-small-token', size: 'small', initialEvents: 20 },
  { key: 'demo-medium', token: 'demo-medium-token', size: 'medium', initialEvents: 1_000, masterSecret: 'demo-medium-secret' },
  { key: 'demo-large', token: 'demo-large-token', size: 'large' },
];

function parseSeed(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xffffffff) throw new InvalidArgumentError(`"${value}" is not a seed (0-4294967295)`);
  return Number(value);
}

interface EmulateOptions {
  apps?: string;
  host?: string;
  port?: number;
  seed?: number;
  keepAlive?: number;
  affinity?: boolean;
  duration?: number;
  json?: boolean;
}

export function registerEmulateCommand(program: Command): void {
  const emulate = program.command('emulate').description('run local emulators of the services Tributary talks to');
  emulate
    .command('connect')
    .description(
      'serve an Airship Connect emulator: POST /api/events (gzip NDJSON, offsets, resume, filters, 307 affinity, ' +
        'error statuses) for synthetic apps, plus an admin API under /_admin for stats and fault knobs (see docs/emulator.md)',
    )
    .option('--apps <file>', 'apps file (JSON): {"apps":[{"key","token","size","rate",…}], "faults":{…}}; default: three demo apps')
    .option('--host <host>', 'address to listen on (default 127.0.0.1, or the file\'s "host")')
    .option('--port <port>', 'port to listen on; 0 = any free port (default 0, or the file\'s "port")', parsePort)
    .option('--seed <n>', 'seed of apps that set none, so runs are reproducible', parseSeed)
    .option('--keep-alive <duration>', 'idle time before a blank keep-alive line (e.g. 1s, 500ms)', parseDurationMs)
    .option('--affinity', 'answer 307 + SRV cookie until the client echoes the cookie (every app)')
    .option('--duration <duration>', 'stop by itself after this long (e.g. 60s)', parseDurationMs)
    .option('--json', 'print the address and apps as one JSON line instead of text')
    .addHelpText(
      'after',
      '\nExample:\n  tributary emulate connect --port 0 --apps apps.json\n' +
        "  curl -s --compressed -X POST -H 'Authorization: Bearer <token>' -H 'X-UA-Appkey: <key>' \\\n" +
        "    -H 'Accept: application/vnd.urbanairship+x-ndjson; version=3;' -d '{\"start\":\"EARLIEST\"}' http://127.0.0.1:<port>/api/events\n",
    )
    .action(async (opts: EmulateOptions) => {
      const raw: Record<string, unknown> = opts.apps ? readAppsFile(opts.apps) : { apps: demoApps };
      if (opts.host !== undefined) raw.host = opts.host;
      if (opts.port !== undefined) raw.port = opts.port;
      if (opts.seed !== undefined) raw.seed = opts.seed;
      if (opts.keepAlive !== undefined) raw.keepAliveMs = opts.keepAlive;
      if (opts.affinity) raw.affinity = true;
      const options = parseEmulatorOptions(raw, opts.apps ? `apps file ${opts.apps}` : 'emulator options');
      const emulator = await startConnectEmulator(options);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ url: emulator.url, eventsUrl: emulator.eventsUrl, adminUrl: `${emulator.url}/_admin`, apps: emulator.apps })}\n`);
      } else {
        const lines = emulator.apps.map(
          (a) => `  ${a.key.padEnd(20)} token ${a.token}  ${a.size}, ${a.rate === 'max' ? 'as fast as read' : `${a.rate} events/s`}${a.masterSecret ? '  (compliance stream)' : ''}`,
        );
        process.stdout.write(
          `Connect emulator listening on ${emulator.url}\n` +
            `  events:     POST ${emulator.eventsUrl}\n  compliance: POST ${emulator.complianceUrl}\n  admin:      ${emulator.url}/_admin/apps\n` +
            `apps:\n${lines.join('\n')}\nPress Ctrl-C to stop.\n`,
        );
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        if (opts.duration !== undefined) setTimeout(stop, opts.duration).unref();
      });
      await emulator.close();
      if (!opts.json) process.stderr.write('Connect emulator stopped.\n');
    });
}
