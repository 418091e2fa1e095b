// Pure: vendor-neutral analytics events in, Amplitude HTTP V2 JSON out; and Amplitude's answers
// (400 with the indices of invalid events, 429 with throttled and over-quota users) read back.
import { ErrorCode } from '../../errors.js';
import type { AnalyticsEvent, PropertyValue } from '../analytics/connect-mapping.js';
import type { EncodedEvent, HttpResponseHeaders, VendorVerdict } from '../analytics/batch-sender.js';
import { parseRetryAfter } from '../http/retry-logic.js';

export interface AmplitudeEvent {
  user_id?: string;
  device_id?: string;
  event_type: string;
  time: number;
  insert_id: string;
  event_properties: Record<string, PropertyValue>;
  user_properties?: { $set?: Record<string, PropertyValue>; $unset?: Record<string, string> };
  platform?: string;
  os_name?: string;
  os_version?: string;
  device_model?: string;
  carrier?: string;
  app_version?: string;
  language?: string;
  country?: string;
}

const osNames: Record<string, string> = { iOS: 'ios', Android: 'android', Amazon: 'android', Web: 'web' };

export function toAmplitudeEvent(ev: AnalyticsEvent): AmplitudeEvent {
  const out: AmplitudeEvent = { event_type: ev.name, time: ev.timeMs, insert_id: ev.insertId, event_properties: ev.properties };
  if (ev.userId !== undefined) out.user_id = ev.userId;
  if (ev.deviceId !== undefined) out.device_id = ev.deviceId;
  if (ev.attributes && (Object.keys(ev.attributes.set).length || ev.attributes.remove.length)) {
    const up: NonNullable<AmplitudeEvent['user_properties']> = {};
    if (Object.keys(ev.attributes.set).length) up.$set = ev.attributes.set;
    if (ev.attributes.remove.length) up.$unset = Object.fromEntries(ev.attributes.remove.map((k) => [k, '-']));
    out.user_properties = up;
  }
  const d = ev.device;
  if (d.platform !== undefined) out.platform = d.platform;
  const os = d.platform ? osNames[d.platform] : undefined;
  if (os !== undefined) out.os_name = os;
  if (d.osVersion !== undefined) out.os_version = d.osVersion;
  if (d.deviceModel !== undefined) out.device_model = d.deviceModel;
  if (d.carrier !== undefined) out.carrier = d.carrier;
  if (d.appVersion !== undefined) out.app_version = d.appVersion;
  if (d.language !== undefined) out.language = d.language;
  if (d.country !== undefined) out.country = d.country;
  return out;
}

export function encodeAmplitudeEvent(ev: AnalyticsEvent): { ok: true; json: string } {
  return { ok: true, json: JSON.stringify(toAmplitudeEvent(ev)) };
}

/** `{"api_key":…,"events":[…],"options":{"min_id_length":n}}` from already-encoded events. */
export function buildAmplitudeBody(apiKey: string, events: readonly string[], minIdLength: number): Buffer {
  return Buffer.from(`{"api_key":${JSON.stringify(apiKey)},"events":[${events.join(',')}],"options":{"min_id_length":${minIdLength}}}`);
}

/** Bytes around the events, for chunking. */
export function amplitudeEnvelopeBytes(apiKey: string, minIdLength: number): number {
  return buildAmplitudeBody(apiKey, [], minIdLength).length;
}

interface AmplitudeErrorBody {
  code?: number;
  error?: string;
  missing_field?: string;
  events_with_invalid_fields?: Record<string, number[]>;
  events_with_missing_fields?: Record<string, number[]>;
  exceeded_daily_quota_users?: Record<string, number>;
  exceeded_daily_quota_devices?: Record<string, number>;
  throttled_users?: Record<string, number>;
  throttled_devices?: Record<string, number>;
  throttled_events?: number[];
  eps_threshold?: number;
}

function parseBody(body: string): AmplitudeErrorBody {
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as AmplitudeErrorBody) : {};
  } catch {
    return {};
  }
}

/** True for the 400 Amplitude answers to a missing or unknown API key (a misconfiguration). */
export function isApiKeyError(parsed: { error?: unknown; missing_field?: unknown }): boolean {
  return parsed.missing_field === 'api_key' || (typeof parsed.error === 'string' && /api[ _]?key/i.test(parsed.error));
}

/**
 * Reads a refused answer:
 * - 400 naming the API key ⇒ misconfiguration (pause; nothing will pass until the key is fixed);
 * - 400 with events_with_invalid_fields / events_with_missing_fields ⇒ exactly those events are
 *   refused; Amplitude ingested none of the request, so the others are resent;
 * - 429 ⇒ events of users or devices over their daily quota are refused (they would be until the
 *   quota resets); the rest are resent after Retry-After, or `throttlePauseMs` (Amplitude: 30 s);
 * - anything else ⇒ no per-event detail: bisect.
 */
export function interpretAmplitudeAnswer(
  answer: { status: number; body: string; headers: HttpResponseHeaders },
  events: readonly Pick<EncodedEvent, 'userId' | 'deviceId'>[],
  now: number,
  throttlePauseMs: number,
): VendorVerdict {
  const parsed = parseBody(answer.body);
  if (answer.status === 400) {
    if (isApiKeyError(parsed)) return { kind: 'misconfigured', code: ErrorCode.sinkAuth, message: 'Amplitude refused the API key' };
    const rejected = new Map<number, string>();
    const add = (groups: Record<string, number[]> | undefined, what: string): void => {
      if (!groups || typeof groups !== 'object') return;
      for (const [field, indices] of Object.entries(groups)) {
        if (!Array.isArray(indices)) continue;
        for (const i of indices) {
          if (!Number.isInteger(i) || i < 0 || i >= events.length) continue;
          const prior = rejected.get(i);
          const reason = `${what} field ${field}`;
          rejected.set(i, prior ? `${prior}; ${reason}` : reason);
        }
      }
    };
    add(parsed.events_with_invalid_fields, 'invalid');
    add(parsed.events_with_missing_fields, 'missing');
    return { kind: 'partial', rejected, othersIngested: false, code: ErrorCode.sinkRejected };
  }
  if (answer.status === 429) {
    const users = parsed.exceeded_daily_quota_users ?? {};
    const devices = parsed.exceeded_daily_quota_devices ?? {};
    const refused = new Map<number, string>();
    events.forEach((e, i) => {
      if (e.userId !== undefined && Object.hasOwn(users, e.userId)) refused.set(i, 'the user exceeded its Amplitude daily event quota');
      else if (e.deviceId !== undefined && Object.hasOwn(devices, e.deviceId)) refused.set(i, 'the device exceeded its Amplitude daily event quota');
    });
    const delayMs = parseRetryAfter(answer.headers['retry-after'], now) ?? throttlePauseMs;
    return { kind: 'throttled', refused, delayMs };
  }
  return { kind: 'bisect' };
}
