// Pure: a batch of records in, the webhook request body and headers out. The events' JSON text
// is passed through byte for byte (never re-serialised: big integers in custom events survive).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { encodeEvents, type EventFraming } from '../encoding.js';
import type { EventRecord } from '../types.js';

const gzip = promisify(gzipCb);

export type WebhookFormat = EventFraming;

export interface WebhookRequestOptions {
  format: WebhookFormat;
  gzip: boolean;
  integrationId: string;
  /** HMAC key; when set the request carries X-Tributary-Timestamp and X-Tributary-Signature. */
  signingSecret?: string | undefined;
  /** Unix time in seconds, the signed timestamp. */
  timestamp: number;
  /** Static and auth headers, merged under Tributary's own. */
  baseHeaders?: Readonly<Record<string, string>>;
}

export interface WebhookRequest {
  /** The bytes on the wire (gzipped when configured). */
  body: Buffer;
  headers: Record<string, string>;
  /** The uncompressed payload: what the signature covers. */
  payload: Buffer;
}

/** Correlation ids listed in one header, at most; a batch rarely spans more source batches. */
export const maxCorrelationIds = 20;

export const signatureVersion = 'v1';

/** The payload before compression: NDJSON lines, or one JSON array. */
export function encodePayload(records: readonly EventRecord[], format: WebhookFormat): Buffer {
  return encodeEvents(records, format);
}

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<payload>")>` over the uncompressed payload. */
export function signPayload(secret: string, timestamp: number, payload: Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(payload).digest('hex');
  return `${signatureVersion}=${mac}`;
}

/**
 * What a receiver does (docs/sinks/webhook.md): recompute the signature over the decompressed
 * body, compare in constant time, and refuse timestamps older than the tolerance (replays).
 */
export function verifySignature(
  secret: string,
  payload: Buffer,
  timestampHeader: string | undefined,
  signatureHeader: string | undefined,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): boolean {
  if (!timestampHeader || !signatureHeader || !/^\d{1,12}$/.test(timestampHeader)) return false;
  const timestamp = Number(timestampHeader);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signPayload(secret, timestamp, payload));
  // A header may list several signatures (during a secret rotation): any match is enough.
  return signatureHeader.split(/,\s*/).some((candidate) => {
    const got = Buffer.from(candidate.trim());
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/** A stable id for exactly this set of events, so a receiver can drop a retried batch. */
export function batchId(records: readonly EventRecord[]): string {
  // One update of the ids joined (the same digest as one update per id, without two native calls per event).
  let text = '';
  for (const r of records) text += `${r.eventId}\n`;
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export function correlationIds(records: readonly EventRecord[]): string[] {
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.size >= maxCorrelationIds) break;
    if (r.correlationId) seen.add(r.correlationId);
  }
  return [...seen];
}

export async function buildWebhookRequest(records: readonly EventRecord[], options: WebhookRequestOptions): Promise<WebhookRequest> {
  const payload = encodePayload(records, options.format);
  // Async gzip runs on the libuv pool: a 1 MiB batch does not stall every other integration.
  const body = options.gzip ? await gzip(payload) : payload;
  const headers: Record<string, string> = {
    ...options.baseHeaders,
    'content-type': options.format === 'ndjson' ? 'application/x-ndjson' : 'application/json',
    'user-agent': 'tributary',
    'x-tributary-integration': options.integrationId,
    'x-tributary-correlation-id': correlationIds(records).join(','),
    'x-tributary-event-count': String(records.length),
    'x-tributary-batch-id': batchId(records),
  };
  if (options.gzip) headers['content-encoding'] = 'gzip';
  if (options.signingSecret !== undefined) {
    headers['x-tributary-timestamp'] = String(options.timestamp);
    headers['x-tributary-signature'] = signPayload(options.signingSecret, options.timestamp, payload);
  }
  return { body, headers, payload };
}
