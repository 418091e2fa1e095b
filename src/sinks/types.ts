// The contract every sink implements (STYLE.md): a pure `validate`, a `build` that makes a
// `Sink`, and per-record outcomes that the sink actor turns into DLQ writes and commits.
import type { Logger } from '../observability/logger.js';
import type { TributaryError } from '../errors.js';
import type { SecretRef } from '../control/secrets.js';

/** One Connect event as it travels from Kafka to a sink. */
export interface EventRecord {
  integrationId: string;
  /** Connect event id (UUID): the de-duplication key. */
  eventId: string;
  /** Connect offset, a decimal string; never compared as a JS number. */
  connectOffset: string;
  /** Connect event type (OPEN, CUSTOM, …). */
  type: string;
  occurred: string;
  processed: string;
  /** When the source produced it to Kafka (ISO). */
  ingestedAt: string;
  /** The batch it was read in; travels to the sink request for tracing. */
  correlationId: string;
  /** The Connect event's JSON text, exactly as read. */
  value: Buffer;
  /** Kafka record key: the device channel (per-device order). */
  key: string | null;
  /** Kafka coordinates. */
  partition: number;
  offset: string;
}

export type RecordOutcome =
  | { status: 'delivered' }
  | {
      /** The sink refused this record on its own merits: it goes to the DLQ. */
      status: 'rejected';
      error: TributaryError;
      attempts: number;
      httpStatus?: number;
      /** Response body, truncated (≤ 1 KiB), safe to show the customer. */
      responseBody?: string;
    };

export interface WriteResult {
  /** One outcome per input record, same order. */
  outcomes: RecordOutcome[];
  /** Requests made, for metrics. */
  requests: number;
  /** Retries made for transient failures, for metrics. */
  retries: number;
  /** Bytes the sink accepted (request bodies as sent, or bytes written), for the bytes-sent metric. */
  bytesSent?: number;
}

export interface SinkLimits {
  maxBatchEvents: number;
  maxBatchBytes: number;
  /**
   * For sinks that want big batches (object stores): let the broker hold each fetch until this
   * many bytes wait or this long passes, so one write gets what arrived meanwhile. Records stay
   * in Kafka while they wait (nothing is held in memory or committed early). The runner caps the
   * wait (docs/sinks/s3.md "Batching").
   */
  fetch?: { minBytes: number; maxWaitMs: number };
}

export interface Sink {
  /** Limits the caller batches to. */
  readonly limits: SinkLimits;
  /**
   * Delivers a batch. Transient failures are retried inside (honouring Retry-After) until
   * delivered, `signal` aborts (throws an AbortError, nothing assumed delivered) or the retry
   * budget runs out (those records are `rejected`). Misconfiguration (401/403/404, bad bucket)
   * throws a TributaryError of kind `misconfiguration`: nothing is assumed delivered.
   */
  write(batch: readonly EventRecord[], signal: AbortSignal): Promise<WriteResult>;
  /** A cheap check the node runs at start-up and for the slow probe of a paused integration. */
  healthcheck(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

export interface SinkContext {
  integrationId: string;
  appKey: string;
  tier: 'small' | 'medium' | 'large';
  /** Local mode: http to loopback receivers allowed. */
  local: boolean;
  logger: Logger;
  resolveSecret(ref: SecretRef): Promise<string>;
  /** Directory for sinks that write files (the file sink). */
  dataDir: string;
}

export interface ValidateContext {
  local: boolean;
}

export interface SinkDefinition<Valid = unknown> {
  /** The folder's name and the spec's `sink.type`. */
  readonly type: string;
  /**
   * Pure: no I/O. Throws ConfigError with the path of each problem, rooted at `sink`
   * (`sink.url: must be https`); `raw` is the whole `sink` object, `type` included.
   */
  validate(raw: unknown, ctx: ValidateContext): Valid;
  build(config: Valid, ctx: SinkContext): Promise<Sink>;
}
