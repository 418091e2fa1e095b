// Seeded synthetic Connect events: the same seed and inputs always give the same events, with
// realistic type mixes, bodies, devices of every platform, and an optional padded size.
import type { ConnectEvent } from '../event.js';
import { devicePlatformOf, syntheticDevice, type Platform, type SyntheticDevice } from './devices.js';
import { eventTypeSpecs, type EventTypeSpec, type RecentPush } from './event-bodies.js';
import { createPrng, mixSeed, weightedPick, type Prng } from './prng.js';

export const sizeTiers = ['small', 'medium', 'large'] as const;
export type SizeTier = (typeof sizeTiers)[number];

/** How many distinct devices an app of each tier has. */
const devicePoolSize: Record<SizeTier, number> = { small: 200, medium: 20_000, large: 500_000 };

export interface EventGeneratorOptions {
  seed: number;
  size: SizeTier;
  /** Only these types are generated (all known types when absent). */
  eventTypes?: readonly string[] | undefined;
  /** COMPLIANCE events exist only for apps with a compliance stream (a master secret). */
  compliance?: boolean | undefined;
  /** Pads CUSTOM events' `properties` so their line is about this many bytes. */
  eventBytes?: number | undefined;
}

export interface EventTiming {
  offset: string;
  processedMs: number;
  /** `occurred` far before its neighbours (minutes to hours), as parallel processing produces. */
  outOfOrder?: boolean;
}

export interface EventGenerator {
  next(timing: EventTiming): ConnectEvent;
  /** The types this generator can produce. */
  readonly types: readonly string[];
}

const maxRecentPushes = 8;
const maxCachedDevices = 20_000;
const paddingPoolChars = 64 * 1024;
const paddingWords = ['lorem', 'ipsum', 'dolor', 'sit', 'amet', 'tributary', 'stream', 'offset', 'river', 'delta', 'basin', 'flow'];

export function createEventGenerator(options: EventGeneratorOptions): EventGenerator {
  const prng = createPrng(mixSeed(options.seed, 0xe7e47));
  const specs = eventTypeSpecs.filter(
    (s) => (options.eventTypes ? options.eventTypes.includes(s.type) : s.type !== 'COMPLIANCE' || options.compliance === true),
  );
  if (specs.length === 0) throw new RangeError(`no generatable event types in ${JSON.stringify(options.eventTypes)}`);
  const weighted = specs.map((s) => ({ item: s, weight: s.weight }));
  const poolSize = devicePoolSize[options.size];
  const recentPushes: RecentPush[] = [];
  const padding = options.eventBytes === undefined ? '' : paddingPool(prng);
  // Device objects are immutable and shared by every event of the device, so busy devices are built once.
  const devices = new Map<number, SyntheticDevice>();
  const deviceAt = (index: number): SyntheticDevice => {
    let device = devices.get(index);
    if (!device) {
      if (devices.size >= maxCachedDevices) devices.clear();
      device = syntheticDevice(options.seed, index);
      devices.set(index, device);
    }
    return device;
  };

  const newPush = (timeMs: number): RecentPush => {
    const push: RecentPush = { push_id: prng.uuid(), time: new Date(timeMs).toISOString() };
    if (prng.chance(0.3)) push.group_id = prng.uuid();
    if (prng.chance(0.1)) push.variant_id = prng.int(0, 3);
    recentPushes.push(push);
    if (recentPushes.length > maxRecentPushes) recentPushes.shift();
    return push;
  };

  return {
    types: specs.map((s) => s.type),
    next(timing) {
      if (recentPushes.length === 0 || prng.chance(0.01)) newPush(timing.processedMs);
      const spec = weightedPick(prng, weighted);
      const occurredMs = timing.processedMs - (timing.outOfOrder ? prng.int(60_000, 2 * 3_600_000) : typicalLatencyMs(prng, options.size));
      const occurredIso = new Date(occurredMs).toISOString();
      const event: ConnectEvent = {
        id: prng.uuid(),
        type: spec.type,
        offset: timing.offset,
        occurred: occurredIso,
        processed: new Date(timing.processedMs).toISOString(),
      };
      if (!spec.deviceless) {
        const device = deviceAt(pickDeviceIndex(prng, options.seed, poolSize, spec.platforms));
        event.device = device.object;
        event.user = device.namedUserId ? { contact_id: device.contactId, named_user_id: device.namedUserId } : { contact_id: device.contactId };
      }
      if (spec.body) {
        const pushForBody = spec.type === 'PUSH_BODY' ? newPush(timing.processedMs) : undefined;
        event.body = spec.body({ prng, recentPushes, occurredIso, ...(pushForBody ? { newPush: pushForBody } : {}) });
      }
      if (options.eventBytes !== undefined && spec.type === 'CUSTOM') pad(event, options.eventBytes, padding, prng);
      return event;
    },
  };
}

/** Most events are processed within seconds; small apps' devices often batch events offline. */
function typicalLatencyMs(prng: Prng, size: SizeTier): number {
  if (size === 'small' && prng.chance(0.1)) return prng.int(60_000, 30 * 60_000);
  return Math.round(prng.exponential(800)) + 20;
}

/** Activity is skewed: low-numbered devices are the app's regulars, as in real audiences. */
function activeDevice(prng: Prng, poolSize: number): number {
  const r = prng.next();
  return Math.floor(r * r * poolSize);
}

function pickDeviceIndex(prng: Prng, seed: number, poolSize: number, allowed: readonly Platform[]): number {
  const first = activeDevice(prng, poolSize);
  if (allowed.length >= 7) return first;
  // A short random probe, then a bounded scan: rare platforms (open, sms) still exist in small pools.
  for (let i = 0; i < 8; i++) {
    const index = i === 0 ? first : activeDevice(prng, poolSize);
    if (allowed.includes(devicePlatformOf(seed, index))) return index;
  }
  for (let i = 1; i < Math.min(poolSize, 5_000); i++) {
    const index = (first + i) % poolSize;
    if (allowed.includes(devicePlatformOf(seed, index))) return index;
  }
  return first;
}

function paddingPool(prng: Prng): string {
  const parts: string[] = [];
  let length = 0;
  while (length < paddingPoolChars) {
    const word = prng.pick(paddingWords);
    parts.push(word);
    length += word.length + 1;
  }
  return parts.join(' ');
}

/** Text-like padding (compresses like real payloads, unlike a run of one character). */
function pad(event: ConnectEvent, eventBytes: number, pool: string, prng: Prng): void {
  const body = event.body as { properties: Record<string, unknown> };
  body.properties.padding = '';
  const missing = eventBytes - Buffer.byteLength(JSON.stringify(event));
  if (missing < 0) {
    delete body.properties.padding; // already larger than asked: padding cannot shrink it
    return;
  }
  let text = '';
  while (text.length < missing) {
    const start = prng.int(0, pool.length - 1);
    text += pool.slice(start, start + missing - text.length);
  }
  body.properties.padding = text;
}

export type { EventTypeSpec };
