// Every Kafka topic and consumer-group name Tributary uses, in one module, with the
// integration-id rules that keep them valid Kafka names.
import { z } from 'zod';

/** Integration ids become part of topic names: Kafka allows [a-zA-Z0-9._-], ≤ 249 chars. */
export const integrationIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,127}$/, 'must be 1-128 chars of a-z, 0-9, "-" or "_", starting with a letter or digit');

export const topics = {
  control: 'tributary.control',
  controlRejected: 'tributary.control.rejected',
  controlFlags: 'tributary.control.flags',
  notifications: 'tributary.notifications',
  events: (integrationId: string) => `tributary.events.${integrationId}`,
  dlq: (integrationId: string) => `tributary.dlq.${integrationId}`,
} as const;

export const groups = {
  /** Every node joins this group on the control topic; its partitions decide who runs what. */
  nodes: 'tributary.nodes',
  /** A throwaway group for one read of the whole control topic (the CLI); deleted afterwards. */
  controlReader: (suffix: string) => `tributary.control-reader.${suffix}`,
  /** A throwaway group for one bounded read of an integration topic's tail (src/kafka/tail-reader.ts); deleted afterwards. */
  tailReader: (suffix: string) => `tributary.tail.${suffix}`,
  sink: (integrationId: string) => `tributary.sink.${integrationId}`,
  dlqReplay: (integrationId: string) => `tributary.dlq-replay.${integrationId}`,
} as const;

/**
 * The control plane's names. One cluster may host several Tributary deployments (or test runs):
 * `control.topic` and `control.group` in the node config override the defaults above.
 */
export interface ControlNames {
  topic: string;
  rejected: string;
  /** Fleet-wide and per-app feature flags (compacted, read whole by every node; docs/flags.md). */
  flags: string;
  group: string;
}

export function controlNames(o: { topic?: string | undefined; group?: string | undefined } = {}): ControlNames {
  const topic = o.topic ?? topics.control;
  return { topic, rejected: `${topic}.rejected`, flags: `${topic}.flags`, group: o.group ?? groups.nodes };
}

/** Header names on events and DLQ records (RELIABILITY.md I3: id, offset and integration travel with every record). */
export const headers = {
  integrationId: 'tributary-integration-id',
  eventId: 'tributary-event-id',
  connectOffset: 'tributary-connect-offset',
  eventType: 'tributary-event-type',
  occurred: 'tributary-occurred',
  processed: 'tributary-processed',
  ingestedAt: 'tributary-ingested-at',
  correlationId: 'tributary-correlation-id',
  /** Source watermark when the batch was produced: every event at or below it was already acked. */
  watermark: 'tributary-watermark',
  /**
   * On a packed record (flag `source.packRecords`): how many events its value holds. Such a record
   * carries the pack's last Connect offset in `connectOffset` and no `eventId`; each event's own
   * id, offset, type, times and key are inside the value (src/pipeline/event-record.ts).
   */
  packEvents: 'tributary-pack-events',
  // DLQ only
  errorClass: 'tributary-error-class',
  errorCode: 'tributary-error-code',
  reason: 'tributary-reason',
  attempts: 'tributary-attempts',
  responseStatus: 'tributary-response-status',
  responseBody: 'tributary-response-body',
  originalPartition: 'tributary-original-partition',
  originalOffset: 'tributary-original-offset',
  stage: 'tributary-stage',
  dlqAt: 'tributary-dlq-at',
} as const;
