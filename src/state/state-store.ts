// The state table (DynamoDB `tributary-integrations`): one row per integration with status,
// checkpoint, owner and its fencing epoch, start-up history, last errors and counters.
// Checkpoint writes are conditional: never backwards, and only from the current owner (I1, I5).
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, NumberValue, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ErrorCode, TributaryError } from '../errors.js';

export const integrationStatuses = ['starting', 'running', 'paused', 'misconfigured', 'failing', 'deleted', 'rejected'] as const;
export type IntegrationStatus = (typeof integrationStatuses)[number];

export interface Counters {
  read: number;
  produced: number;
  delivered: number;
  dlq: number;
  deduplicated: number;
  poison: number;
}

export interface ErrorEntry {
  class: string;
  code: string;
  message: string;
  fingerprint: string;
  at: string;
  stage?: string;
}

export interface HistoryEntry {
  node: string;
  event: string;
  at: string;
  epoch?: number;
}

export interface IntegrationRow {
  integrationId: string;
  appKey?: string;
  tier?: string;
  sinkType?: string;
  status?: IntegrationStatus;
  statusReason?: string;
  statusAt?: string;
  checkpoint?: string;
  checkpointAt?: string;
  owner?: string;
  ownerEpoch?: number;
  history?: HistoryEntry[];
  lastErrors?: ErrorEntry[];
  counters?: Partial<Counters>;
  sourceLagMs?: number;
  consumerLag?: number;
  lastReplay?: Record<string, unknown>;
  specVersion?: number;
  /** The control-topic record (`partition:offset`) the owning node last applied. */
  appliedSpec?: string;
  /** Per Kafka partition of the events topic: the chunk the sink last started to deliver (flag `sink.stableChunks`). */
  chunks?: Record<string, ChunkIntent>;
  updatedAt?: string;
}

/** A chunk the sink is about to deliver: its first and last Kafka offsets (inclusive). */
export interface ChunkIntent {
  first: string;
  last: string;
}

export const HISTORY_LIMIT = 10;
export const ERRORS_LIMIT = 5;

export type CheckpointResult = 'advanced' | 'unchanged' | 'fenced';

/** What a flush adds to a row besides its checkpoint: counters (added) and the latest lags. */
export interface Progress {
  counters?: Partial<Counters>;
  sourceLagMs?: number | undefined;
  consumerLag?: number | undefined;
}

/** Appends `p` to an UpdateExpression's SET and ADD clauses. */
function addProgress(p: Progress, sets: string[], adds: string[], names: Record<string, string>, values: Record<string, unknown>): void {
  for (const k of ['sourceLagMs', 'consumerLag'] as const) {
    if (p[k] !== undefined) {
      sets.push(`${k} = :${k}`);
      values[`:${k}`] = p[k];
    }
  }
  for (const [k, v] of Object.entries(p.counters ?? {})) {
    if (!v) continue;
    adds.push(`#c_${k} :c_${k}`);
    names[`#c_${k}`] = `counter_${k}`;
    values[`:c_${k}`] = v;
  }
}

export class StateStore {
  readonly doc: DynamoDBDocumentClient;

  constructor(
    readonly client: DynamoDBClient,
    readonly table: string,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
      unmarshallOptions: { wrapNumbers: (v) => (v.length > 15 ? NumberValue.from(v) : Number(v)) },
    });
  }

  /** Creates the table when missing (on-demand billing) and waits until it is active. */
  async ensureTable(): Promise<void> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.table }));
      return;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw wrap(err, 'describe the state table');
    }
    try {
      await this.client.send(
        new CreateTableCommand({
          TableName: this.table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'integrationId', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'integrationId', KeyType: 'HASH' }],
        }),
      );
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw wrap(err, 'create the state table');
    }
    await waitUntilTableExists({ client: this.client, maxWaitTime: 60 }, { TableName: this.table });
  }

  async get(integrationId: string): Promise<IntegrationRow | undefined> {
    try {
      const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: { integrationId }, ConsistentRead: true }));
      return res.Item ? normalise(res.Item) : undefined;
    } catch (err) {
      throw wrap(err, `read state of ${integrationId}`);
    }
  }

  /** Every row (paginated scan): for the CLI and the health actor's cluster-wide view. */
  async list(): Promise<IntegrationRow[]> {
    const rows: IntegrationRow[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const res = await this.doc.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start }));
        for (const item of res.Items ?? []) rows.push(normalise(item));
        start = res.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw wrap(err, 'scan the state table');
    }
    return rows;
  }

  /**
   * Takes ownership for `node`: bumps the fencing epoch, so writes from the previous owner are
   * rejected from now on, and appends to the start-up history. Returns the new epoch and the row.
   */
  async claim(
    integrationId: string,
    node: string,
    info: { appKey: string; tier: string; sinkType: string; specVersion?: number },
  ): Promise<{ epoch: number; row: IntegrationRow }> {
    const now = new Date().toISOString();
    const current = await this.get(integrationId);
    const history = [...(current?.history ?? []), { node, event: 'claimed', at: now, epoch: (current?.ownerEpoch ?? 0) + 1 }].slice(-HISTORY_LIMIT);
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { integrationId },
          UpdateExpression:
            'SET #owner = :node, ownerEpoch = if_not_exists(ownerEpoch, :zero) + :one, appKey = :appKey, tier = :tier, sinkType = :sinkType, history = :history, updatedAt = :now' +
            (info.specVersion === undefined ? '' : ', specVersion = :specVersion'),
          // Optimistic: if someone else claimed in between, this claim retries on fresh data.
          ConditionExpression: current?.ownerEpoch === undefined ? 'attribute_not_exists(ownerEpoch)' : 'ownerEpoch = :seen',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':node': node,
            ':zero': 0,
            ':one': 1,
            ':appKey': info.appKey,
            ':tier': info.tier,
            ':sinkType': info.sinkType,
            ':history': history,
            ':now': now,
            ...(info.specVersion === undefined ? {} : { ':specVersion': info.specVersion }),
            ...(current?.ownerEpoch === undefined ? {} : { ':seen': current.ownerEpoch }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const row = normalise(res.Attributes ?? {});
      return { epoch: row.ownerEpoch ?? 1, row };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return this.claim(integrationId, node, info);
      throw wrap(err, `claim ${integrationId}`);
    }
  }

  /**
   * Moves the checkpoint forward to `offset` if this owner still holds `epoch`. Never moves it
   * backwards: an equal or lower offset is `unchanged`; a newer owner makes it `fenced`.
   * `progress` (counters added, lags) goes in the same write when it is `advanced`, and is not
   * written otherwise: one call per flush instead of two (the SDK costs ~0.7 ms of CPU a call).
   */
  async advanceCheckpoint(integrationId: string, epoch: number, offset: string, progress: Progress = {}): Promise<CheckpointResult> {
    if (!/^\d{1,38}$/.test(offset)) throw new TributaryError(ErrorCode.bug, `checkpoint "${offset}" is not a decimal offset`);
    const now = new Date().toISOString();
    const sets = ['checkpoint = :c', 'checkpointN = :n', 'checkpointAt = :now', 'updatedAt = :now'];
    const adds: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':c': offset, ':n': NumberValue.from(offset), ':epoch': epoch, ':now': now };
    addProgress(progress, sets, adds, names, values);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { integrationId },
          UpdateExpression: `SET ${sets.join(', ')}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ConditionExpression: 'ownerEpoch = :epoch AND (attribute_not_exists(checkpointN) OR checkpointN < :n)',
          ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
        }),
      );
      return 'advanced';
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw wrap(err, `write checkpoint of ${integrationId}`);
      const row = await this.get(integrationId);
      return row?.ownerEpoch !== epoch ? 'fenced' : 'unchanged';
    }
  }

  /**
   * Status, counters (added), lag, one error and one history entry in a single write. When
   * `epoch` is given the write is fenced like a checkpoint (a zombie cannot flip the status, nor
   * overwrite the new owner's chunk in flight). `chunk`: the chunk the sink is about to deliver
   * from a partition (flag `sink.stableChunks`), one attribute per partition so the sink's
   * partitions in flight never overwrite each other's.
   */
  async update(
    integrationId: string,
    patch: {
      epoch?: number;
      status?: IntegrationStatus;
      statusReason?: string;
      counters?: Partial<Counters>;
      sourceLagMs?: number;
      consumerLag?: number;
      error?: ErrorEntry;
      history?: HistoryEntry;
      lastReplay?: Record<string, unknown>;
      appliedSpec?: string;
      chunk?: ChunkIntent & { partition: number };
    },
  ): Promise<'updated' | 'fenced'> {
    const now = new Date().toISOString();
    const sets: string[] = ['updatedAt = :now'];
    const adds: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':now': now };
    if (patch.status !== undefined) {
      sets.push('#status = :status', 'statusAt = :now', 'statusReason = :reason');
      names['#status'] = 'status';
      values[':status'] = patch.status;
      values[':reason'] = patch.statusReason ?? '';
    }
    addProgress(patch, sets, adds, names, values);
    if (patch.lastReplay) {
      sets.push('lastReplay = :replay');
      values[':replay'] = patch.lastReplay;
    }
    if (patch.appliedSpec !== undefined) {
      sets.push('appliedSpec = :applied');
      values[':applied'] = patch.appliedSpec;
    }
    if (patch.chunk) {
      sets.push('#chunk = :chunk');
      names['#chunk'] = `chunk_${patch.chunk.partition}`;
      values[':chunk'] = { first: patch.chunk.first, last: patch.chunk.last };
    }
    // Bounded lists: read-modify-write is fine at these rates (errors and history are rare).
    if (patch.error || patch.history) {
      const row = await this.get(integrationId);
      if (patch.error) {
        sets.push('lastErrors = :errors');
        values[':errors'] = [...(row?.lastErrors ?? []), patch.error].slice(-ERRORS_LIMIT);
      }
      if (patch.history) {
        sets.push('history = :history');
        values[':history'] = [...(row?.history ?? []), patch.history].slice(-HISTORY_LIMIT);
      }
    }
    const expr = `SET ${sets.join(', ')}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { integrationId },
          UpdateExpression: expr,
          ...(patch.epoch === undefined ? {} : { ConditionExpression: 'ownerEpoch = :epoch' }),
          ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: patch.epoch === undefined ? values : { ...values, ':epoch': patch.epoch },
        }),
      );
      return 'updated';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'fenced';
      throw wrap(err, `update state of ${integrationId}`);
    }
  }
}

function normalise(item: Record<string, unknown>): IntegrationRow {
  const counters: Partial<Counters> = {};
  const chunks: Record<string, ChunkIntent> = {};
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    if (k.startsWith('counter_')) counters[k.slice(8) as keyof Counters] = Number(v);
    else if (k.startsWith('chunk_')) chunks[k.slice(6)] = v as ChunkIntent;
    else if (k !== 'checkpointN') row[k] = v instanceof NumberValue ? v.toString() : v;
  }
  return { ...(row as unknown as IntegrationRow), counters, ...(Object.keys(chunks).length ? { chunks } : {}) };
}

function wrap(err: unknown, what: string): TributaryError {
  if (err instanceof TributaryError) return err;
  return new TributaryError(ErrorCode.stateUnavailable, `cannot ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

export function createDynamoClient(o: { endpoint?: string | undefined; region: string }): DynamoDBClient {
  return new DynamoDBClient({
    region: o.region,
    ...(o.endpoint
      ? {
          endpoint: o.endpoint,
          // DynamoDB Local accepts any credentials; real AWS uses the default provider chain.
          credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local' },
        }
      : {}),
    maxAttempts: 5,
  });
}
