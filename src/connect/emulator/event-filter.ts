// Which events a stream sends: filters (OR across filter objects, AND within one), JSON
// predicates, and subsets (SAMPLE at random, PARTITION by a hash of the event id). Pure.
import type { ConnectEvent } from '../event.js';
import { platforms, type Platform } from './devices.js';
import { hashString } from './prng.js';
import type { Filter, Matcher, Predicate, Subset } from './request-body.js';

export interface FilterableEvent {
  event: ConnectEvent;
  occurredMs: number;
  processedMs: number;
}

const legacyKeys: readonly [string, Platform][] = [['ios_channel', 'ios'], ['android_channel', 'android'], ['amazon_channel', 'amazon']];

/** An event passes when there are no filters, or when any one filter matches it whole. */
export function matchesFilters(e: FilterableEvent, filters: readonly Filter[] | undefined): boolean {
  return !filters || filters.some((f) => matchesFilter(e, f));
}

export function matchesFilter(e: FilterableEvent, f: Filter): boolean {
  const { event } = e;
  if (f.types && !f.types.includes(event.type)) return false;
  if (f.device_types) {
    const platform = devicePlatform(event.device);
    if (!platform || !f.device_types.includes(platform)) return false;
  }
  if (f.devices && !f.devices.some((ref) => matchesDevice(event, ref))) return false;
  if (f.notifications) {
    const refs = Array.isArray(f.notifications) ? f.notifications : [f.notifications];
    if (!refs.some((ref) => matchesNotification(event, ref))) return false;
  }
  if (f.latency !== undefined && e.processedMs - e.occurredMs > f.latency) return false;
  if (f.users && !f.users.some((ref) => matchesUser(event, ref))) return false;
  if (f.predicates && !f.predicates.every((p) => evaluatePredicate(event, p))) return false;
  return true;
}

/** The platform of a device object: `device_type` in newer payloads, the channel key in older ones. */
export function devicePlatform(device: Record<string, unknown> | undefined): Platform | undefined {
  if (!device) return undefined;
  const declared = typeof device.device_type === 'string' ? device.device_type.toLowerCase() : undefined;
  if (declared && (platforms as readonly string[]).includes(declared)) return declared as Platform;
  for (const [key, platform] of legacyKeys) if (typeof device[key] === 'string') return platform;
  return undefined;
}

function matchesDevice(event: ConnectEvent, ref: NonNullable<Filter['devices']>[number]): boolean {
  const d = event.device;
  if (!d) return false;
  if (ref.named_user_id !== undefined) return d.named_user_id === ref.named_user_id || event.user?.named_user_id === ref.named_user_id;
  if (ref.channel !== undefined) return [d.channel, ...legacyKeys.map(([k]) => d[k])].includes(ref.channel);
  for (const [key, platform] of legacyKeys) {
    const wanted = ref[key as 'ios_channel' | 'android_channel' | 'amazon_channel'];
    if (wanted !== undefined) return d[key] === wanted || (d.channel === wanted && devicePlatform(d) === platform);
  }
  return false;
}

function matchesNotification(event: ConnectEvent, ref: { push_id?: string | undefined; group_id?: string | undefined }): boolean {
  const body = event.body;
  if (!body) return false;
  const triggering = (body.triggering_push ?? {}) as Record<string, unknown>;
  if (ref.push_id !== undefined) return body.push_id === ref.push_id || triggering.push_id === ref.push_id;
  if (ref.group_id !== undefined) return body.group_id === ref.group_id || triggering.group_id === ref.group_id;
  return false;
}

function matchesUser(event: ConnectEvent, ref: { named_user_id?: string | undefined; contact_id?: string | undefined }): boolean {
  const user = event.user ?? {};
  if (ref.contact_id !== undefined) return user.contact_id === ref.contact_id;
  return user.named_user_id === ref.named_user_id || event.device?.named_user_id === ref.named_user_id;
}

export function evaluatePredicate(event: ConnectEvent, p: Predicate): boolean {
  if ('and' in p) return p.and.every((q) => evaluatePredicate(event, q));
  if ('or' in p) return p.or.some((q) => evaluatePredicate(event, q));
  if ('not' in p) return !evaluatePredicate(event, p.not);
  const scope = p.scope === undefined ? [] : Array.isArray(p.scope) ? p.scope : p.scope.split('.');
  let target: unknown = event;
  for (const key of scope) target = isRecord(target) ? target[key] : undefined;
  let value = isRecord(target) ? target[p.key] : undefined;
  if (p.index !== undefined) value = Array.isArray(value) ? value[p.index] : undefined;
  return matches(value, p.value);
}

function matches(value: unknown, m: Matcher): boolean {
  if (m.is_present !== undefined) return (value !== undefined) === m.is_present;
  if (m.equals !== undefined) return sameValue(value, m.equals, m.ignore_case === true);
  if (m.array_contains !== undefined) return Array.isArray(value) && value.some((v) => sameValue(v, m.array_contains, m.ignore_case === true));
  if (m.at_least !== undefined) return asNumber(value) !== undefined && asNumber(value)! >= m.at_least;
  if (m.at_most !== undefined) return asNumber(value) !== undefined && asNumber(value)! <= m.at_most;
  if (m.version_matches !== undefined) return typeof value === 'string' && versionMatches(value, m.version_matches);
  return false;
}

function sameValue(a: unknown, b: unknown, ignoreCase: boolean): boolean {
  if (ignoreCase && typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

/** Numbers, and numeric strings (Connect sends LOCATION coordinates as strings). */
function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/**
 * Ivy-style version constraints as Airship's predicates use them: `1.2+` (prefix),
 * `[1.0,2.0)` / `(1.0,]` (ranges, inclusive with brackets), or an exact version.
 */
export function versionMatches(version: string, constraint: string): boolean {
  const c = constraint.trim();
  if (c.endsWith('+')) return version.startsWith(c.slice(0, -1));
  const range = /^([[(])\s*([^,]*)\s*,\s*([^\])]*)\s*([\])])$/.exec(c);
  if (range) {
    const [, open, low, high, close] = range;
    if (low) {
      const cmp = compareVersions(version, low);
      if (cmp < 0 || (cmp === 0 && open === '(')) return false;
    }
    if (high) {
      const cmp = compareVersions(version, high);
      if (cmp > 0 || (cmp === 0 && close === ')')) return false;
    }
    return true;
  }
  return compareVersions(version, c) === 0;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const cmp = Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (cmp !== 0) return Math.sign(cmp);
  }
  return 0;
}

/** PARTITION hashes the id, so every duplicate of an event lands in the same partition. */
export function inSubset(eventId: string, subset: Subset | undefined, random: () => number): boolean {
  if (!subset) return true;
  if (subset.type === 'SAMPLE') return random() < subset.proportion;
  return hashString(eventId) % subset.count === subset.selection;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
