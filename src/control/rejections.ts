// A refused control record leaves two traces and changes nothing else: a JSON record on
// `tributary.control.rejected` (key = integration id) and `lastRejection` on the integration's
// state row. The status becomes `rejected` only when no good spec of it runs; otherwise the
// running spec keeps its status and the rejection sits beside it (docs/integrations.md).
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { RecordProducer } from '../kafka/produce-queue.js';
import type { IntegrationRow, StateStore } from '../state/state-store.js';
import { positionOf, redactRaw, type ControlRecord, type Decoded } from './control-record.js';

export interface Rejection {
  id: string | null;
  reason: string;
  issues: { path: string; message: string }[];
  receivedAt: string;
  node: string;
  /** Where the refused record sits on the control topic. */
  control: { partition: number; offset: string; timestamp: string };
  /** The head of the document, secrets masked, at most 1 KiB. */
  raw: string | null;
}

/** What the state row keeps of the last rejection. */
export interface LastRejection {
  reason: string;
  issues: { path: string; message: string }[];
  at: string;
  position: string;
  node: string;
}

export type RowWithRejection = IntegrationRow & { lastRejection?: LastRejection };

export function buildRejection(record: ControlRecord, decoded: Extract<Decoded, { kind: 'invalid' }>, node: string, now = new Date()): Rejection {
  return {
    id: decoded.id,
    reason: decoded.reason,
    issues: decoded.issues.slice(0, 50).map((i) => ({ path: i.path, message: i.message.slice(0, 300) })),
    receivedAt: now.toISOString(),
    node,
    control: { partition: record.partition, offset: record.offset, timestamp: record.timestamp },
    raw: redactRaw(record.value),
  };
}

/** One line for status reasons: `invalid spec: sink.url: must be https; …`. */
export function describeRejection(r: Pick<Rejection, 'reason' | 'issues'>): string {
  const detail = r.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
  return (detail ? `${r.reason}: ${detail}` : r.reason).slice(0, 500);
}

/**
 * Records a rejection once per control record (re-reading the partition after a rebalance finds
 * the same position in `lastRejection` and does nothing). `running`: a good spec of this
 * integration runs on this node, so its status is left alone.
 */
export async function recordRejection(
  deps: { producer: RecordProducer; state: StateStore; topic: string },
  rejection: Rejection,
  running: boolean,
): Promise<'recorded' | 'already'> {
  const id = rejection.id;
  const position = positionOf({ partition: rejection.control.partition, offset: rejection.control.offset });
  if (id !== null) {
    const row = (await deps.state.get(id)) as RowWithRejection | undefined;
    if (row?.lastRejection?.position === position) return 'already';
  }
  await deps.producer.send(deps.topic, [{ key: id, value: JSON.stringify(rejection) }]);
  if (id === null) return 'recorded';
  const last: LastRejection = { reason: rejection.reason, issues: rejection.issues.slice(0, 10), at: rejection.receivedAt, position, node: rejection.node };
  const sets = ['lastRejection = :rej', 'updatedAt = :now'];
  const values: Record<string, unknown> = { ':rej': last, ':now': rejection.receivedAt };
  const names: Record<string, string> = {};
  if (!running) {
    sets.push('#status = :status', 'statusReason = :reason', 'statusAt = :now');
    names['#status'] = 'status';
    values[':status'] = 'rejected';
    values[':reason'] = describeRejection(rejection);
  }
  await deps.state.doc.send(
    new UpdateCommand({
      TableName: deps.state.table,
      Key: { integrationId: id },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
    }),
  );
  return 'recorded';
}
