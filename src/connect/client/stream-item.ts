// What the Connect client yields to the source actor: events with their exact raw bytes,
// poison lines, OFFSET_UPDATE positions and connection lifecycle notes.
import type { ErrorCode, TributaryError } from '../../errors.js';
import type { EventEnvelope } from '../event.js';

/** An envelope-checked event and the exact bytes of its line (no LF, no CR). */
export interface EventItem {
  kind: 'event';
  /** The envelope only: the body stays in `raw`, which is what reaches Kafka. */
  event: EventEnvelope;
  /** The line as received, for producing to Kafka without re-serialising (big integers survive). */
  raw: Buffer;
  offset: string;
}

/** A line that cannot be an event: it goes to the source DLQ, the stream goes on (S3, S4). */
export interface PoisonItem {
  kind: 'poison';
  code: typeof ErrorCode.poisonLine | typeof ErrorCode.poisonOversizedLine;
  reason: string;
  /** The line's bytes, capped (an oversized line keeps only its head). */
  raw: Buffer;
  /** The full length of the line in bytes, before capping. */
  length: number;
  /** The last good event offset seen before it (offset context), if any. */
  afterOffset: string | undefined;
}

/** OFFSET_UPDATE: how far Connect has looked. Informational only — never a checkpoint. */
export interface OffsetUpdateItem {
  kind: 'offsetUpdate';
  offset: string;
}

/** Where a connection asked Connect to start. */
export type ResumePoint = { resumeOffset: string } | { start: 'EARLIEST' | 'LATEST' };

export interface ConnectedItem {
  kind: 'connected';
  /** Connection attempts since the last healthy stream (0 on a clean first try). */
  attempt: number;
  resumeFrom: ResumePoint;
}

export const ReconnectReason = {
  ended: 'ended',
  truncated: 'truncated',
  corrupt: 'corrupt',
  badLines: 'bad_lines',
  idleTimeout: 'idle_timeout',
  network: 'network',
  serverError: 'server_error',
  rateLimited: 'rate_limited',
  redirectLoop: 'redirect_loop',
} as const;
export type ReconnectReason = (typeof ReconnectReason)[keyof typeof ReconnectReason];

export interface ReconnectingItem {
  kind: 'reconnecting';
  reason: ReconnectReason;
  /** The transient error behind it (absent for a clean end of stream). */
  error: TributaryError | undefined;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  /** Attempt number the wait belongs to (0 after a healthy stream). */
  attempt: number;
}

export type StreamItem = EventItem | PoisonItem | OffsetUpdateItem | ConnectedItem | ReconnectingItem;
