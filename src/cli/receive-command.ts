// `tributary receive webhook`: a local webhook receiver for trying integrations — point a webhook
// sink at http://127.0.0.1:<port>/<integration>; it counts events and duplicates per integration
// and checks X-Tributary-Signature when given the signing secret. Runs until Ctrl-C / --duration.
import type { Command } from 'commander';
import { startWebhookReceiver, type IntegrationTally } from '../devtools/webhook-receiver.js';
import { parseDurationMs, parsePort } from './parse.js';

interface ReceiveOptions {
  host: string;
  port: number;
  secret?: string;
  secretEnv?: string;
  duration?: number;
  json?: boolean;
}

function line(t: IntegrationTally): string {
  return `${t.integration}: ${t.unique} events (${t.duplicates} duplicates) in ${t.accepted} requests; ${t.refused} refused${t.badSignature ? ` (${t.badSignature} bad signatures)` : ''}`;
}

export function registerReceiveCommand(program: Command): void {
  const receive = program.command('receive').description('run local receivers to try integrations against');
  receive
    .command('webhook')
    .description('receive webhook sink requests on loopback: counts events per integration (path /<integration>), checks signatures')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', parsePort, 0)
    .option('--secret <secret>', 'signing secret: requests without a valid X-Tributary-Signature are answered 401')
    .option('--secret-env <name>', 'read the signing secret from this environment variable')
    .option('--duration <duration>', 'stop by itself after this long', parseDurationMs)
    .option('--json', 'print the address as one JSON line at start and the tallies as JSON at the end')
    .action(async (o: ReceiveOptions) => {
      const secret = o.secret ?? (o.secretEnv ? process.env[o.secretEnv] : undefined);
      const rx = await startWebhookReceiver({ host: o.host, port: o.port, ...(secret ? { signingSecret: secret } : {}) });
      if (o.json) process.stdout.write(`${JSON.stringify({ url: rx.url, port: rx.port, signed: secret !== undefined })}\n`);
      else process.stderr.write(`webhook receiver on ${rx.url} — point a webhook sink at ${rx.url}/<integration-id>${secret ? ' (signatures checked)' : ''}; Ctrl-C stops\n`);
      let last = '';
      const timer = setInterval(() => {
        if (o.json) return;
        const text = rx.tallies().map(line).join('\n');
        if (text && text !== last) process.stderr.write(`${text}\n`);
        last = text;
      }, 5_000);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
        if (o.duration !== undefined) setTimeout(resolve, o.duration).unref();
      });
      clearInterval(timer);
      const tallies = rx.tallies();
      await rx.close();
      if (o.json) process.stdout.write(`${JSON.stringify({ integrations: tallies }, null, 2)}\n`);
      else process.stderr.write(`${tallies.length ? tallies.map(line).join('\n') : 'nothing received'}\n`);
    });
}
