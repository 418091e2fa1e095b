// Pure: vendor-neutral analytics events in, Segment Tracking API `track` messages out, wrapped in
// one `{"batch":[…]}` body. Segment answers 200 to nearly everything, 400 to a batch it refuses whole.
import type { AnalyticsEvent, PropertyValue } from '../analytics/connect-mapping.js';
import type { VendorVerdict } from '../analytics/batch-sender.js';
import { segmentLimits } from './config.js';

export interface SegmentTrack {
  type: 'track';
  event: string;
  userId?: string;
  anonymousId?: string;
  properties: Record<string, PropertyValue>;
  context: {
    library: { name: string };
    app?: { version?: string; namespace?: string };
    device?: { id?: string; model?: string; type?: string };
    os?: { name?: string; version?: string };
    network?: { carrier?: string };
    locale?: string;
    timezone?: string;
  };
  timestamp: string;
  messageId: string;
}

const deviceTypes: Record<string, string> = { iOS: 'ios', Android: 'android', Amazon: 'android', Web: 'web' };

export function toSegmentTrack(ev: AnalyticsEvent): SegmentTrack {
  const d = ev.device;
  const context: SegmentTrack['context'] = { library: { name: 'tributary' } };
  if (d.appVersion !== undefined || d.appPackageName !== undefined) {
    context.app = {};
    if (d.appVersion !== undefined) context.app.version = d.appVersion;
    if (d.appPackageName !== undefined) context.app.namespace = d.appPackageName;
  }
  const type = d.platform ? deviceTypes[d.platform] : undefined;
  if (ev.deviceId !== undefined || d.deviceModel !== undefined || type !== undefined) {
    context.device = {};
    if (ev.deviceId !== undefined) context.device.id = ev.deviceId;
    if (d.deviceModel !== undefined) context.device.model = d.deviceModel;
    if (type !== undefined) context.device.type = type;
  }
  if (d.platform !== undefined || d.osVersion !== undefined) {
    context.os = {};
    if (d.platform !== undefined) context.os.name = d.platform;
    if (d.osVersion !== undefined) context.os.version = d.osVersion;
  }
  if (d.carrier !== undefined) context.network = { carrier: d.carrier };
  if (d.locale !== undefined) context.locale = d.locale;
  if (d.timezone !== undefined) context.timezone = d.timezone;
  const out: SegmentTrack = {
    type: 'track',
    event: ev.name,
    properties: ev.properties,
    context,
    // Segment wants ISO-8601; Connect's `occurred` already is, to the millisecond.
    timestamp: new Date(ev.timeMs).toISOString(),
    messageId: ev.insertId,
  };
  if (ev.userId !== undefined) out.userId = ev.userId;
  // The channel is the anonymous id whenever there is one: Segment ties it to the user on identify.
  if (ev.deviceId !== undefined) out.anonymousId = ev.deviceId;
  return out;
}

export function encodeSegmentTrack(ev: AnalyticsEvent): { ok: true; json: string } | { ok: false; reason: string } {
  if (ev.insertId.length > segmentLimits.maxMessageIdLength) {
    return { ok: false, reason: `the event id is longer than Segment's ${segmentLimits.maxMessageIdLength}-character messageId` };
  }
  return { ok: true, json: JSON.stringify(toSegmentTrack(ev)) };
}

/** `{"batch":[…],"sentAt":"…"}` from already-encoded messages. */
export function buildSegmentBody(messages: readonly string[], sentAt: string): Buffer {
  return Buffer.from(`{"batch":[${messages.join(',')}],"sentAt":${JSON.stringify(sentAt)}}`);
}

export const segmentEnvelopeBytes = buildSegmentBody([], new Date(0).toISOString()).length;

/**
 * Segment names no message in a refusal: a 400 (or any other non-retried 4xx) is bisected down
 * to the message responsible.
 */
export function interpretSegmentAnswer(): VendorVerdict {
  return { kind: 'bisect' };
}
