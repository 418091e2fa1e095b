// Pure: vendor-neutral analytics events in, Mixpanel /import JSON out (a JSON array of
// {event, properties}); and the strict-mode 400 (failed_records) read back.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { ErrorCode } from '../../errors.js';
import type { AnalyticsEvent, PropertyValue } from '../analytics/connect-mapping.js';
import type { EncodedEvent, VendorVerdict } from '../analytics/batch-sender.js';

const gzip = promisify(gzipCb);

export interface MixpanelEvent {
  event: string;
  properties: Record<string, PropertyValue> & { time: number; distinct_id: string; $insert_id: string };
}

/** Mixpanel allows fewer than 255 properties per event. */
export const maxMixpanelProperties = 254;

/** `$insert_id` must be ≤ 36 characters of [A-Za-z0-9-]; a UUID is used as is, anything else hashed. */
export function mixpanelInsertId(id: string): string {
  return /^[A-Za-z0-9-]{1,36}$/.test(id) ? id : createHash('sha256').update(id).digest('hex').slice(0, 36);
}

export function toMixpanelEvent(ev: AnalyticsEvent): MixpanelEvent {
  const d = ev.device;
  const reserved: Record<string, PropertyValue> = {
    time: ev.timeMs,
    // Simplified ID merge: the user id when known, else the device's own `$device:` id.
    distinct_id: ev.userId ?? `$device:${ev.deviceId}`,
    $insert_id: mixpanelInsertId(ev.insertId),
  };
  if (ev.deviceId !== undefined) reserved.$device_id = ev.deviceId;
  if (ev.userId !== undefined) reserved.$user_id = ev.userId;
  if (d.platform !== undefined) reserved.$os = d.platform;
  if (d.osVersion !== undefined) reserved.$os_version = d.osVersion;
  if (d.appVersion !== undefined) reserved.$app_version_string = d.appVersion;
  if (d.deviceModel !== undefined) reserved.$model = d.deviceModel;
  if (d.carrier !== undefined) reserved.$carrier = d.carrier;
  if (d.locale !== undefined) reserved.locale = d.locale;
  if (d.timezone !== undefined) reserved.timezone = d.timezone;
  reserved.mp_lib = 'tributary';
  // Event properties first, then Mixpanel's reserved keys (which win on a clash).
  const properties = { ...ev.properties, ...reserved } as MixpanelEvent['properties'];
  return { event: ev.name, properties };
}

export function encodeMixpanelEvent(ev: AnalyticsEvent): { ok: true; json: string } | { ok: false; reason: string } {
  const out = toMixpanelEvent(ev);
  const count = Object.keys(out.properties).length;
  if (count > maxMixpanelProperties) return { ok: false, reason: `${count} properties, above Mixpanel's limit of ${maxMixpanelProperties}` };
  return { ok: true, json: JSON.stringify(out) };
}

/** The JSON array of already-encoded events; gzipped when asked (async: off the event loop). */
export async function buildMixpanelBody(events: readonly string[], gzipped: boolean): Promise<{ body: Buffer; payloadBytes: number }> {
  const payload = Buffer.from(`[${events.join(',')}]`);
  return { body: gzipped ? await gzip(payload) : payload, payloadBytes: payload.length };
}

interface FailedRecord {
  index?: unknown;
  insert_id?: unknown;
  $insert_id?: unknown;
  field?: unknown;
  message?: unknown;
}

/**
 * Reads a refused answer. A strict-mode 400 lists `failed_records` (index, insert id, field,
 * message) and Mixpanel has imported every other event of the request: exactly those are
 * refused, the rest delivered. The insert id, when given, wins over the index. Any other
 * refusal (or a 400 naming no record) is bisected.
 */
export function interpretMixpanelAnswer(answer: { status: number; body: string }, events: readonly Pick<EncodedEvent, 'insertId'>[]): VendorVerdict {
  if (answer.status !== 400) return { kind: 'bisect' };
  let failed: FailedRecord[] = [];
  try {
    const parsed = JSON.parse(answer.body) as { failed_records?: unknown };
    if (Array.isArray(parsed?.failed_records)) failed = parsed.failed_records as FailedRecord[];
  } catch {
    return { kind: 'bisect' };
  }
  const byInsertId = new Map(events.map((e, i) => [mixpanelInsertId(e.insertId), i]));
  const rejected = new Map<number, string>();
  for (const f of failed) {
    if (typeof f !== 'object' || f === null) continue;
    const id = typeof f.insert_id === 'string' ? f.insert_id : typeof f.$insert_id === 'string' ? f.$insert_id : undefined;
    let pos = id !== undefined ? byInsertId.get(id) : undefined;
    if (pos === undefined && typeof f.index === 'number' && Number.isInteger(f.index) && f.index >= 0 && f.index < events.length) pos = f.index;
    if (pos === undefined) continue;
    const reason = [typeof f.field === 'string' ? f.field : undefined, typeof f.message === 'string' ? f.message : undefined].filter(Boolean).join(': ') || 'failed validation';
    rejected.set(pos, reason.slice(0, 300));
  }
  // Nothing identifiable: Mixpanel's count of imported events cannot say which, so find them by halves.
  if (rejected.size === 0) return { kind: 'bisect' };
  return { kind: 'partial', rejected, othersIngested: true, code: ErrorCode.sinkRejected };
}
