// What `tributary integrations …` does, as a library (the CLI formats it; tests call it): writes
// desired state to the control topic after validating it with the nodes' own schema, and reads
// actual state from the state table. The control topic is the truth for "does it exist": the
// newest record of the id (a spec, not a tombstone) — the state row may lag or outlive it.
import { randomBytes } from 'node:crypto';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type { NodeConfig } from '../config/node-config.js';
import { ConfigError, ErrorCode, TributaryError } from '../errors.js';
import { validateSinkConfig } from '../sinks/registry.js';
import { createDynamoClient, StateStore } from '../state/state-store.js';
import { positionOf, type ControlRecord } from './control-record.js';
import { createControlProducer, ensureControlTopics, readControlTopic, writeControlRecord } from './control-topic.js';
import { flagRecordKey, flagRecordValue, overrideSettings, overridesFromSnapshot, type FlagName } from './flags.js';
import { redactSecrets } from './secrets.js';
import { parseSpec, type IntegrationSpec } from './spec.js';
import type { RowWithRejection } from './rejections.js';
import { createKafka } from '../kafka/kafka.js';
import { controlNames, type ControlNames } from '../kafka/topics.js';
import type { Logger } from '../observability/logger.js';

export type StateRow = RowWithRejection & { lastReplay?: { requestId?: string; ok?: boolean; error?: string; from?: string; at?: string } };

export interface Written {
  id: string;
  action: 'created' | 'updated' | 'paused' | 'resumed' | 'deleted' | 'replay requested';
  partition: number;
  offset: string;
  /** For replay: the request id the node records in the state row once done. */
  requestId?: string;
}

export class IntegrationsClient {
  private producer: Producer | undefined;
  private readonly state: StateStore;
  private connected = false;
  readonly names: ControlNames;

  constructor(
    private readonly config: NodeConfig,
    private readonly kafka: Kafka,
    private readonly admin: Admin,
  ) {
    this.names = controlNames(config.control);
    this.state = new StateStore(createDynamoClient({ endpoint: config.dynamodb.endpoint, region: config.dynamodb.region }), config.dynamodb.table);
  }

  static create(config: NodeConfig, logger: Logger): IntegrationsClient {
    const kafka = createKafka(config.kafka, logger, `${config.kafka.clientId}-cli`);
    return new IntegrationsClient(config, kafka, kafka.admin());
  }

  /** Validates a document exactly as the nodes will (throws ConfigError naming each problem). */
  validate(document: Buffer | string | unknown): IntegrationSpec {
    return parseSpec(document, { local: this.config.local, validateSink: validateSinkConfig });
  }

  async create(document: Buffer | string | unknown): Promise<Written> {
    const spec = this.validate(document);
    const current = await this.current(spec.id);
    if (current) throw new TributaryError(ErrorCode.specInvalid, `integration ${spec.id} already exists; use \`integrations update\``);
    return this.write(spec.id, rawJson(document), 'created');
  }

  async update(document: Buffer | string | unknown): Promise<Written> {
    const spec = this.validate(document);
    await this.require(spec.id);
    return this.write(spec.id, rawJson(document), 'updated');
  }

  async setState(id: string, state: 'running' | 'paused'): Promise<Written & { unchanged?: boolean }> {
    const { spec, raw } = await this.requireValid(id);
    const next = { ...raw, state };
    this.validate(next);
    const written = await this.write(id, JSON.stringify(next), state === 'paused' ? 'paused' : 'resumed');
    return spec.state === state ? { ...written, unchanged: true } : written;
  }

  async delete(id: string): Promise<Written> {
    await this.require(id);
    return this.write(id, null, 'deleted');
  }

  /** `from`: 'earliest' or an ISO time with a zone. The owning node replays once per request id. */
  async replay(id: string, from: string): Promise<Written> {
    const { raw } = await this.requireValid(id);
    const requestId = `r-${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
    const next = { ...raw, replay: { requestId, from } };
    this.validate(next);
    return { ...(await this.write(id, JSON.stringify(next), 'replay requested')), requestId };
  }

  /** The spec on the control topic (secrets redacted) and the state row. */
  async get(id: string): Promise<{ id: string; spec: unknown; specPosition?: string; specProblem?: string; state: StateRow | undefined }> {
    const [record, row] = await Promise.all([this.current(id), this.row(id)]);
    if (!record && !row) throw new TributaryError(ErrorCode.specInvalid, `integration ${id} not found (not on the control topic, no state row)`);
    let spec: unknown = null;
    let specProblem: string | undefined;
    if (record?.value) {
      try {
        spec = redactSecrets(JSON.parse(record.value.toString('utf8')));
      } catch {
        specProblem = 'the newest record is not valid JSON';
      }
    }
    return { id, spec, ...(record ? { specPosition: positionOf(record) } : {}), ...(specProblem ? { specProblem } : {}), state: row };
  }

  /** The state row; none while no node has created the table yet. */
  async row(id: string): Promise<StateRow | undefined> {
    return ((await this.state.get(id).catch(noTable(undefined))) ?? undefined) as StateRow | undefined;
  }

  async list(): Promise<StateRow[]> {
    const rows = (await this.state.list().catch(noTable([]))) as StateRow[];
    return rows.filter((r) => r.integrationId !== '__readyz__').sort((a, b) => a.integrationId.localeCompare(b.integrationId));
  }

  /** The owning node has applied `written` (or a later record of the same integration). */
  static applied(row: Pick<StateRow, 'appliedSpec'>, written: Pick<Written, 'partition' | 'offset'>): boolean {
    const m = /^(\d+):(\d+)$/.exec(row.appliedSpec ?? '');
    return m !== null && Number(m[1]) === written.partition && BigInt(m[2]!) >= BigInt(written.offset);
  }

  /** Polls the state row until `done` says so (a rejection of `position` fails at once). */
  async waitFor(id: string, written: Pick<Written, 'partition' | 'offset'>, done: (row: StateRow) => boolean, timeoutMs: number): Promise<StateRow> {
    const position = positionOf(written);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = await this.row(id);
      if (row?.lastRejection?.position === position) {
        const detail = row.lastRejection.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
        throw new TributaryError(ErrorCode.specInvalid, `a node rejected the spec: ${row.lastRejection.reason}${detail ? ` (${detail})` : ''}`);
      }
      if (row && done(row)) return row;
      if (Date.now() >= deadline) throw new TributaryError(ErrorCode.kafkaUnavailable, `timed out after ${timeoutMs} ms waiting for ${id} (status: ${row?.status ?? 'no state row'}); is a node running with --control?`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Sets a flag fleet-wide or for one app on the flags topic (null clears the setting); every node
   * applies it within `control.flagsPollMs`. Validated first: an unknown flag writes nothing.
   */
  async setFlag(name: string, value: boolean | null, appKey?: string): Promise<{ key: string; value: boolean | null; partition: number; offset: string }> {
    const key = flagRecordKey({ name, appKey });
    await this.connect();
    await ensureControlTopics(this.admin, this.names, this.config.control.partitions);
    const at = await writeControlRecord(await this.controlProducer(), this.names.flags, key, flagRecordValue(value));
    return { key, value, ...at };
  }

  /**
   * The flags set on the flags topic, and the records the nodes refuse (with why; a running node
   * keeps the last good value it had for such a setting, a node started since has none).
   */
  async flags(): Promise<{ settings: { scope: string; name: FlagName; value: boolean }[]; refused: { key: string; reason: string }[] }> {
    await this.connect();
    const snapshot = await readControlTopic(this.kafka, this.admin, this.names.flags, { keepAll: true });
    const refused: { key: string; reason: string }[] = [];
    const overrides = overridesFromSnapshot(snapshot, (key, err) => refused.push({ key, reason: err.message }));
    return { settings: overrideSettings(overrides), refused };
  }

  async close(): Promise<void> {
    if (this.producer) await this.producer.disconnect().catch(() => undefined);
    if (this.connected) await this.admin.disconnect().catch(() => undefined);
    this.state.client.destroy();
  }

  private async connect(): Promise<void> {
    if (this.connected) return;
    await this.admin.connect();
    this.connected = true;
  }

  private async current(id: string): Promise<ControlRecord | undefined> {
    await this.connect();
    const snapshot = await readControlTopic(this.kafka, this.admin, this.names.topic);
    const record = snapshot.latest.get(id);
    return record && record.value !== null ? record : undefined;
  }

  private async require(id: string): Promise<ControlRecord> {
    const record = await this.current(id);
    if (!record) throw new TributaryError(ErrorCode.specInvalid, `integration ${id} does not exist; use \`integrations create\``);
    return record;
  }

  private async requireValid(id: string): Promise<{ spec: IntegrationSpec; raw: Record<string, unknown> }> {
    const record = await this.require(id);
    try {
      const raw = JSON.parse(record.value!.toString('utf8')) as Record<string, unknown>;
      return { spec: this.validate(raw), raw };
    } catch (err) {
      const why = err instanceof ConfigError ? err.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ') : 'not valid JSON';
      throw new TributaryError(ErrorCode.specInvalid, `the current spec of ${id} on the control topic is invalid (${why}); replace it with \`integrations update\``);
    }
  }

  private async write(id: string, value: string | null, action: Written['action']): Promise<Written> {
    await this.connect();
    await ensureControlTopics(this.admin, this.names, this.config.control.partitions);
    const at = await writeControlRecord(await this.controlProducer(), this.names.topic, id, value);
    return { id, action, ...at };
  }

  private async controlProducer(): Promise<Producer> {
    if (!this.producer) {
      this.producer = createControlProducer(this.kafka);
      await this.producer.connect();
    }
    return this.producer;
  }
}

function noTable<T>(fallback: T): (err: unknown) => T {
  return (err) => {
    if ((err as { cause?: unknown })?.cause instanceof ResourceNotFoundException) return fallback;
    throw err;
  };
}

/** The document as written by the customer (compact JSON), without defaults filled in. */
function rawJson(document: Buffer | string | unknown): string {
  if (Buffer.isBuffer(document)) return JSON.stringify(JSON.parse(document.toString('utf8')));
  if (typeof document === 'string') return JSON.stringify(JSON.parse(document));
  return JSON.stringify(document);
}
