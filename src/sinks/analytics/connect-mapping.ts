// Pure: one Connect event (CONNECT_API.md §4) → the vendor-neutral analytics event that the
// amplitude, mixpanel and segment sinks each turn into their own JSON. The table is in docs/sinks/*.md.
import type { EventRecord } from '../types.js';
import { parseConnectJson } from './json-numbers.js';

export type Scalar = string | number | boolean | null;
export type PropertyValue = Scalar | Scalar[];

/** The platform a channel belongs to, from its channel key or `device_type`. */
export const Platform = {
  ios: 'iOS',
  android: 'Android',
  amazon: 'Amazon',
  web: 'Web',
  email: 'Email',
  sms: 'SMS',
  open: 'Open',
} as const;
export type Platform = (typeof Platform)[keyof typeof Platform];

export interface DeviceInfo {
  platform?: Platform;
  /** Attribute values as Connect sent them (all strings). */
  appVersion?: string;
  appPackageName?: string;
  deviceModel?: string;
  osVersion?: string;
  carrier?: string;
  connectionType?: string;
  timezone?: string;
  /** `en-US` from locale_language_code + locale_country_code (or whichever is present). */
  locale?: string;
  language?: string;
  country?: string;
  sdkVersion?: string;
}

export interface AnalyticsEvent {
  /** The Connect event id: the vendor's insert/message id, so a retried event is de-duplicated. */
  insertId: string;
  /** Connect type (CUSTOM, OPEN, …). */
  connectType: string;
  /** CUSTOM ⇒ its body.name; anything else ⇒ `<prefix><TYPE>` (`Airship OPEN`). */
  name: string;
  /** `occurred`, as epoch milliseconds and as the ISO text Connect sent. */
  timeMs: number;
  occurred: string;
  /** `device.named_user_id`, else `user.named_user_id`. */
  userId?: string;
  /** The channel id. */
  deviceId?: string;
  /** Which device key held the channel (`ios_channel`, `channel`, …). */
  channelKey?: string;
  device: DeviceInfo;
  /** Body (flattened) plus Connect metadata; custom event properties at the top level. */
  properties: Record<string, PropertyValue>;
  /** ATTRIBUTE_OPERATION: attributes set and removed (for vendors with user properties). */
  attributes?: { set: Record<string, PropertyValue>; remove: string[] };
}

export type MappingResult = { ok: true; event: AnalyticsEvent } | { ok: false; reason: string };

export interface MappingOptions {
  /** Prefix of non-CUSTOM event names (`Airship ` ⇒ `Airship OPEN`). */
  eventNamePrefix: string;
}

export const defaultMappingOptions: MappingOptions = { eventNamePrefix: 'Airship ' };

/** Device keys that hold a channel id, most specific first after the newer generic `channel`. */
const channelKeys = ['channel', 'ios_channel', 'android_channel', 'amazon_channel', 'web_channel', 'email_channel', 'sms_channel', 'open_channel'] as const;

const platformByChannelKey: Record<string, Platform> = {
  ios_channel: Platform.ios,
  android_channel: Platform.android,
  amazon_channel: Platform.amazon,
  web_channel: Platform.web,
  email_channel: Platform.email,
  sms_channel: Platform.sms,
  open_channel: Platform.open,
};

const platformByDeviceType: Record<string, Platform> = {
  IOS: Platform.ios,
  ANDROID: Platform.android,
  AMAZON: Platform.amazon,
  WEB: Platform.web,
  EMAIL: Platform.email,
  SMS: Platform.sms,
  OPEN: Platform.open,
};

/** Deepest nesting flattened into dotted keys; deeper objects become JSON text. */
const maxFlattenDepth = 3;

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: Json): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** Pure: maps one record. `ok: false` carries a reason fit for the DLQ (never the event's content). */
export function mapConnectEvent(record: EventRecord, options: MappingOptions = defaultMappingOptions): MappingResult {
  let parsed: Json;
  try {
    parsed = parseConnectJson(record.value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the event is not valid JSON' };
  }
  if (!isObject(parsed)) return { ok: false, reason: 'the event is not a JSON object' };
  return mapConnectObject(parsed, record, options);
}

export function mapConnectObject(event: Record<string, Json>, record: Pick<EventRecord, 'eventId' | 'type' | 'occurred'>, options: MappingOptions = defaultMappingOptions): MappingResult {
  const insertId = nonEmptyString(event.id) ?? record.eventId;
  const connectType = nonEmptyString(event.type) ?? record.type;
  const occurred = nonEmptyString(event.occurred) ?? record.occurred;
  const timeMs = Date.parse(occurred);
  if (!Number.isFinite(timeMs)) return { ok: false, reason: `occurred ${JSON.stringify(String(occurred).slice(0, 40))} is not a timestamp` };

  const device = isObject(event.device) ? event.device : {};
  const user = isObject(event.user) ? event.user : {};
  const body = isObject(event.body) ? event.body : {};

  let channelKey: string | undefined;
  let deviceId: string | undefined;
  for (const key of channelKeys) {
    const v = nonEmptyString(device[key]);
    if (v !== undefined) {
      channelKey = key;
      deviceId = v;
      break;
    }
  }
  const userId = nonEmptyString(device.named_user_id) ?? nonEmptyString(user.named_user_id);
  if (userId === undefined && deviceId === undefined) {
    return { ok: false, reason: `a ${connectType} event without a named user or channel cannot be attributed to anyone (no user or device id)` };
  }

  const info = deviceInfo(device, channelKey);

  let name: string;
  const properties: Record<string, PropertyValue> = {};
  if (connectType === 'CUSTOM') {
    const custom = nonEmptyString(body.name);
    name = custom ?? `${options.eventNamePrefix}CUSTOM`;
    // The customer's own properties first and unprefixed: they are what an analyst looks for.
    if (isObject(body.properties)) flattenInto(properties, body.properties, '', 1);
    const rest = Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'name' && k !== 'properties'));
    flattenInto(properties, rest, '', 1, true);
  } else {
    name = `${options.eventNamePrefix}${connectType}`;
    if (connectType !== 'ATTRIBUTE_OPERATION') flattenInto(properties, body, '', 1);
  }
  properties.airship_event_type = connectType;
  if (deviceId !== undefined) properties.airship_channel_id = deviceId;
  if (info.platform !== undefined) properties.airship_platform = info.platform;
  const contactId = nonEmptyString(user.contact_id);
  if (contactId !== undefined) properties.airship_contact_id = contactId;

  const result: AnalyticsEvent = { insertId, connectType, name, timeMs, occurred, device: info, properties };
  if (userId !== undefined) result.userId = userId;
  if (deviceId !== undefined) result.deviceId = deviceId;
  if (channelKey !== undefined) result.channelKey = channelKey;
  if (connectType === 'ATTRIBUTE_OPERATION') result.attributes = attributeChanges(body);
  return { ok: true, event: result };
}

function deviceInfo(device: Record<string, Json>, channelKey: string | undefined): DeviceInfo {
  const a = isObject(device.attributes) ? device.attributes : {};
  const str = (k: string): string | undefined => {
    const v = a[k];
    if (typeof v === 'string') return v.trim() === '' ? undefined : v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return undefined;
  };
  const info: DeviceInfo = {};
  const deviceType = nonEmptyString(device.device_type)?.toUpperCase();
  const platform = (channelKey ? platformByChannelKey[channelKey] : undefined) ?? (deviceType ? platformByDeviceType[deviceType] : undefined);
  if (platform) info.platform = platform;
  const set = <K extends keyof DeviceInfo>(key: K, value: DeviceInfo[K] | undefined): void => {
    if (value !== undefined) info[key] = value;
  };
  set('appVersion', str('app_version'));
  set('appPackageName', str('app_package_name'));
  set('deviceModel', str('device_model'));
  set('osVersion', str('device_os'));
  set('carrier', str('carrier'));
  set('connectionType', str('connection_type'));
  set('timezone', str('iana_timezone'));
  set('sdkVersion', str('ua_sdk_version'));
  const language = str('locale_language_code');
  const country = str('locale_country_code');
  set('language', language);
  set('country', country);
  set('locale', language && country ? `${language}-${country}` : (language ?? country));
  return info;
}

/**
 * Flattens nested objects into dotted keys (`triggering_push.push_id`) up to a small depth;
 * arrays of scalars stay arrays, anything else deeper becomes JSON text. With `keepExisting`,
 * a key already present (a custom property) is not overwritten.
 */
function flattenInto(out: Record<string, PropertyValue>, obj: Record<string, Json>, prefix: string, depth: number, keepExisting = false): void {
  for (const [key, value] of Object.entries(obj)) {
    const name = prefix + key;
    if (keepExisting && Object.hasOwn(out, name)) continue;
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      out[name] = value;
    } else if (Array.isArray(value)) {
      out[name] = value.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v)) ? (value as Scalar[]) : JSON.stringify(value);
    } else if (isObject(value)) {
      if (depth < maxFlattenDepth) flattenInto(out, value, `${name}.`, depth + 1, keepExisting);
      else out[name] = JSON.stringify(value);
    }
  }
}

function attributeChanges(body: Record<string, Json>): { set: Record<string, PropertyValue>; remove: string[] } {
  const set: Record<string, PropertyValue> = {};
  const remove: string[] = [];
  const items = (v: Json): Record<string, Json>[] => (Array.isArray(v) ? v.filter(isObject) : []);
  for (const item of items(body.set)) {
    const key = nonEmptyString(item.key);
    if (key === undefined) continue;
    const v = item.value;
    set[key] = v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
  }
  for (const item of items(body.remove)) {
    const key = nonEmptyString(item.key);
    if (key !== undefined) remove.push(key);
  }
  return { set, remove };
}
