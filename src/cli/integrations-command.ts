// `tributary integrations …`: create, update, pause, resume, delete and replay integrations by
// writing the control topic (validated first, with the nodes' own schema), and get, list and
// status from the state table. `--json` for scripts; any error exits non-zero with a message.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { loadNodeConfig, type NodeConfig } from '../config/node-config.js';
import { IntegrationsClient, type StateRow, type Written } from '../control/integrations-client.js';
import { specJsonSchemaText } from '../control/spec-json-schema.js';
import { redactSecrets } from '../control/secrets.js';
import { parseSpec } from '../control/spec.js';
import { validateSinkConfig } from '../sinks/registry.js';
import { ConfigError, ErrorCode } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { parseDurationMs } from './parse.js';

export interface CommonOptions {
  config?: string;
  brokers?: string;
  json?: boolean;
  wait?: number;
}

function loadConfig(o: CommonOptions): NodeConfig {
  const overrides = o.brokers ? [{ path: ['kafka', 'brokers'], value: o.brokers.split(',').map((s) => s.trim()).filter(Boolean) }] : [];
  return loadNodeConfig({ file: o.config, overrides });
}

export async function withClient<T>(o: CommonOptions, fn: (c: IntegrationsClient) => Promise<T>): Promise<T> {
  const config = loadConfig(o);
  // Logs go to stderr so --json output stays parseable.
  const client = IntegrationsClient.create(config, createLogger({ level: 'error', destination: process.stderr }));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function readDocument(file: string): Buffer {
  try {
    return file === '-' ? readFileSync(0) : readFileSync(file);
  } catch (err) {
    throw new ConfigError(ErrorCode.specInvalid, `cannot read ${file}`, [{ path: '', message: (err as Error).message }]);
  }
}

export function print(o: CommonOptions, value: unknown, text: string): void {
  process.stdout.write(o.json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

function describeWritten(w: Written): string {
  return `${w.action} ${w.id} (control partition ${w.partition}, offset ${w.offset})${w.requestId ? `, request ${w.requestId}` : ''}`;
}

function parseFrom(value: string): string {
  if (value === 'earliest') return value;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) && Number.isFinite(Date.parse(value))) {
    return new Date(value).toISOString();
  }
  throw new InvalidArgumentError(`"${value}" is not "earliest" or an ISO time with a zone (e.g. 2025-01-31T12:00:00Z)`);
}

function rowLine(r: StateRow): string {
  const cols = [r.integrationId.padEnd(36), String(r.status ?? '-').padEnd(13), String(r.owner ?? '-').padEnd(28), String(r.checkpoint ?? '-').padEnd(14), r.statusReason ?? ''];
  return cols.join(' ').trimEnd();
}

function statusText(r: StateRow): string {
  const lines = [
    `${r.integrationId}: ${r.status ?? 'unknown'}${r.statusReason ? ` (${r.statusReason})` : ''}`,
    `  app ${r.appKey ?? '-'} (${r.tier ?? '-'}), sink ${r.sinkType ?? '-'}`,
    `  owner ${r.owner ?? '-'} epoch ${r.ownerEpoch ?? '-'}, checkpoint ${r.checkpoint ?? '-'} at ${r.checkpointAt ?? '-'}`,
    `  counters ${JSON.stringify(r.counters ?? {})}, consumer lag ${r.consumerLag ?? '-'}`,
  ];
  if (r.lastRejection) lines.push(`  last rejection ${r.lastRejection.at}: ${r.lastRejection.reason}${r.lastRejection.issues.length ? ` — ${r.lastRejection.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}` : ''}`);
  if (r.lastReplay) lines.push(`  last replay ${JSON.stringify(r.lastReplay)}`);
  for (const e of r.lastErrors ?? []) lines.push(`  error ${e.at} ${e.class}/${e.code}: ${e.message}`);
  for (const h of r.history ?? []) lines.push(`  history ${h.at} ${h.node} ${h.event}${h.epoch === undefined ? '' : ` (epoch ${h.epoch})`}`);
  return lines.join('\n');
}

export function registerIntegrationsCommands(program: Command): void {
  const root = program
    .command('integrations')
    .description('manage integrations through the control topic (create, update, pause, resume, delete, replay) and read their state');

  const common = (c: Command, wait = false): Command => {
    c.option('--config <file>', 'node config file (JSON; environment overrides it)')
      .option('--brokers <list>', 'Kafka brokers, host:port[,host:port]')
      .option('--json', 'print JSON');
    if (wait) c.option('--wait <duration>', 'wait until a node has applied it (e.g. 30s); fails if a node rejects it', parseDurationMs);
    return c;
  };

  common(root.command('create <file>').description('create an integration from a spec file ("-" = stdin); fails if the id exists'), true).action(
    async (file: string, o: CommonOptions) =>
      withClient(o, async (c) => {
        const w = await c.create(readDocument(file));
        const row = o.wait ? await c.waitFor(w.id, w, (r) => IntegrationsClient.applied(r, w) && ['running', 'paused', 'failing', 'misconfigured'].includes(r.status ?? ''), o.wait) : undefined;
        print(o, { ...w, ...(row ? { status: row.status } : {}) }, `${describeWritten(w)}${row ? `; ${row.status} on ${row.owner}` : ''}`);
      }),
  );

  common(root.command('update <file>').description('replace an integration\'s spec (only what changed restarts); fails if the id does not exist'), true).action(
    async (file: string, o: CommonOptions) =>
      withClient(o, async (c) => {
        const w = await c.update(readDocument(file));
        // Done when the owning node records this record as applied (or rejects it).
        const row = o.wait ? await c.waitFor(w.id, w, (r) => IntegrationsClient.applied(r, w), o.wait) : undefined;
        print(o, { ...w, ...(row ? { status: row.status } : {}) }, `${describeWritten(w)}${row ? `; applied, ${row.status} on ${row.owner}` : ''}`);
      }),
  );

  for (const [name, state] of [
    ['pause', 'paused'],
    ['resume', 'running'],
  ] as const) {
    common(root.command(`${name} <id>`).description(name === 'pause' ? 'stop the source and sink; data waits in Kafka' : 'start a paused integration from its checkpoint'), true).action(
      async (id: string, o: CommonOptions) =>
        withClient(o, async (c) => {
          const w = await c.setState(id, state);
          const row = o.wait ? await c.waitFor(id, w, (r) => IntegrationsClient.applied(r, w) && (state === 'paused' ? r.status === 'paused' : r.status !== 'paused'), o.wait) : undefined;
          print(o, { ...w, ...(row ? { status: row.status } : {}) }, `${describeWritten(w)}${w.unchanged ? ' (it already was)' : ''}${row ? `; ${row.status}` : ''}`);
        }),
    );
  }

  common(root.command('delete <id>').description('delete an integration (tombstone); its events topic is kept until retention'), true).action(
    async (id: string, o: CommonOptions) =>
      withClient(o, async (c) => {
        const w = await c.delete(id);
        const row = o.wait ? await c.waitFor(id, w, (r) => r.status === 'deleted', o.wait) : undefined;
        print(o, { ...w, ...(row ? { status: row.status } : {}) }, describeWritten(w));
      }),
  );

  common(root.command('replay <id>').description('re-deliver from Kafka: move the sink back to a time (or the earliest retained event)'), true)
    .requiredOption('--from <time>', '"earliest" or an ISO time with a zone', parseFrom)
    .action(async (id: string, o: CommonOptions & { from: string }) =>
      withClient(o, async (c) => {
        const w = await c.replay(id, o.from);
        const row = o.wait ? await c.waitFor(id, w, (r) => r.lastReplay?.requestId === w.requestId, o.wait) : undefined;
        if (row?.lastReplay && row.lastReplay.ok === false) throw new ConfigError(ErrorCode.specInvalid, `replay of ${id} failed`, [{ path: 'replay', message: row.lastReplay.error ?? 'unknown' }]);
        print(o, { ...w, ...(row ? { replay: row.lastReplay } : {}) }, `${describeWritten(w)}${row ? '; done' : ''}`);
      }),
    );

  common(root.command('get <id>').description('the spec on the control topic (secrets redacted) and the state row')).action(async (id: string, o: CommonOptions) =>
    withClient(o, async (c) => {
      const r = await c.get(id);
      print(o, r, `${JSON.stringify(r.spec, null, 2)}\n${r.specProblem ? `(${r.specProblem})\n` : ''}${r.state ? statusText(r.state) : '(no state row yet)'}`);
    }),
  );

  common(root.command('list').description('every integration in the state table')).action(async (o: CommonOptions) =>
    withClient(o, async (c) => {
      const rows = await c.list();
      const header = ['ID'.padEnd(36), 'STATUS'.padEnd(13), 'OWNER'.padEnd(28), 'CHECKPOINT'.padEnd(14), 'REASON'].join(' ');
      print(o, rows, [header, ...rows.map(rowLine)].join('\n'));
    }),
  );

  common(root.command('status <id>').description('the state row: status, owner and epoch, checkpoint, counters, errors, rejections, history')).action(
    async (id: string, o: CommonOptions) =>
      withClient(o, async (c) => {
        const row = await c.row(id);
        if (!row) throw new ConfigError(ErrorCode.specInvalid, `no state for ${id}`, [{ path: 'id', message: 'no node has applied or rejected it yet' }]);
        print(o, row, statusText(row));
      }),
  );

  root
    .command('validate <file>')
    .description('validate a spec file as the nodes would, without writing it')
    .option('--config <file>', 'node config file (its `local` flag decides what local mode allows)')
    .option('--json', 'print JSON')
    .action((file: string, o: CommonOptions) => {
      const config = loadConfig(o);
      const spec = parseSpec(readDocument(file), { local: config.local, validateSink: validateSinkConfig });
      print(o, redactSecrets(spec), `${spec.id}: valid`);
    });

  root
    .command('schema')
    .description('print the spec v1 JSON Schema (the same as docs/spec.schema.json)')
    .action(() => {
      process.stdout.write(specJsonSchemaText());
    });
}

