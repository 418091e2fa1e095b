// The Connect event envelope as Tributary reads it (CONNECT_API.md §4). Bodies stay opaque:
// Airship adds fields and types without notice, so only the envelope is checked.

export interface ConnectEvent {
  id: string;
  type: string;
  /** Decimal string; "not necessarily numeric" per the docs, so kept as a string. */
  offset: string;
  occurred: string;
  processed: string;
  device?: Record<string, unknown>;
  body?: Record<string, unknown>;
  user?: Record<string, unknown>;
  [key: string]: unknown;
}

export const knownEventTypes = [
  'PUSH_BODY', 'SEND', 'OPEN', 'CLOSE', 'CUSTOM', 'LOCATION', 'REGION', 'TAG_CHANGE', 'FIRST_OPEN', 'UNINSTALL',
  'RICH_DELETE', 'RICH_DELIVERY', 'RICH_READ', 'IN_APP_MESSAGE_DISPLAY', 'IN_APP_MESSAGE_RESOLUTION',
  'IN_APP_MESSAGE_EXPIRATION', 'CONTROL', 'SCREEN_VIEWED', 'ATTRIBUTE_OPERATION', 'COMPLIANCE', 'CONTACT_CHANGE',
  'FEATURE_FLAG_INTERACTION', 'FIRST_OPT_IN', 'IN_APP_BUTTON_TAP', 'IN_APP_FORM_DISPLAY', 'IN_APP_FORM_RESULT',
  'IN_APP_PAGE_VIEW', 'IN_APP_PAGE_SWIPE', 'IN_APP_PAGER_COMPLETED', 'IN_APP_PAGER_SUMMARY', 'IN_APP_EXPERIENCES',
  'IN_APP_MESSAGE_CONTROL', 'IN_APP_MESSAGE_EXCLUSION', 'LABEL_EVENT', 'MOBILE_ORIGINATED', 'RICH_CONTROL',
  'SEND_ABORTED', 'SEND_REJECTED', 'SHORT_LINK_CLICK', 'SUBSCRIPTION', 'SUBSCRIPTION_LIST', 'WEB_CLICK',
  'WEB_SESSION', 'OFFSET_UPDATE',
] as const;

/**
 * What Tributary reads of an event beyond its raw line: the envelope the Kafka record's headers
 * carry, and the device channel that keys it. The body is never interpreted on the source side,
 * so the parsed tree need not outlive the line's parse (or leave the thread that parsed it).
 */
export interface EventEnvelope {
  id: string;
  type: string;
  offset: string;
  occurred: string;
  processed: string;
  /** The device channel (`deviceChannel`): the Kafka record key; null when the event has none. */
  channel: string | null;
}

export function envelopeOf(e: ConnectEvent): EventEnvelope {
  return { id: e.id, type: e.type, offset: e.offset, occurred: e.occurred, processed: e.processed, channel: deviceChannel(e) };
}

/** The device channel of an event: the Kafka record key (per-device order). */
export function deviceChannel(e: ConnectEvent): string | null {
  const d = e.device;
  if (!d) return null;
  for (const k of ['channel', 'ios_channel', 'android_channel', 'amazon_channel', 'web_channel', 'sms_channel', 'email_channel', 'open_channel']) {
    const v = d[k];
    if (typeof v === 'string' && v) return v;
  }
  return null;
}

const isoMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * Light validation of one parsed line: returns a reason when the envelope is unusable
 * (the line then goes to the DLQ with its raw text), or undefined when it is fine.
 */
export function envelopeProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const e = v as Record<string, unknown>;
  for (const k of ['id', 'type', 'offset', 'occurred', 'processed'] as const) {
    if (typeof e[k] !== 'string' || e[k] === '') return `missing or non-string "${k}"`;
  }
  if (!/^\d{1,30}$/.test(e.offset as string)) return `offset "${String(e.offset).slice(0, 40)}" is not a decimal string`;
  if (!isoMs.test(e.occurred as string)) return 'occurred is not an ISO-8601 UTC time';
  if (!isoMs.test(e.processed as string)) return 'processed is not an ISO-8601 UTC time';
  return undefined;
}

/** Compares two decimal offset strings without losing precision. */
export function compareOffsets(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
