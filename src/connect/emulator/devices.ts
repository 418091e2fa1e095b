// The synthetic device population of an app: device i is derived from (seed, i) alone, so a
// large app's hundred thousand devices cost nothing until an event names one.
import { createPrng, mixSeed, weightedPick, type Prng } from './prng.js';

export const platforms = ['ios', 'android', 'amazon', 'web', 'sms', 'email', 'open'] as const;
export type Platform = (typeof platforms)[number];

/** The platform-specific channel key older payloads carry; newer ones add `channel` + `device_type`. */
const legacyChannelKey: Partial<Record<Platform, string>> = {
  ios: 'ios_channel',
  android: 'android_channel',
  amazon: 'amazon_channel',
};

const platformWeights: readonly { item: Platform; weight: number }[] = [
  { item: 'ios', weight: 40 },
  { item: 'android', weight: 38 },
  { item: 'amazon', weight: 3 },
  { item: 'web', weight: 10 },
  { item: 'sms', weight: 4 },
  { item: 'email', weight: 4 },
  { item: 'open', weight: 1 },
];

const firstNames = ['willis', 'david', 'bear', 'dj', 'george', 'ana', 'mei', 'tomas', 'priya', 'olu', 'ines', 'kenji'];
const iosModels = ['iPhone15,2', 'iPhone14,5', 'iPhone16,1', 'iPad13,4', 'iPhone12,8'];
const androidModels = ['Pixel 8', 'SM-G991B', 'Nexus 6P', 'moto g(60)', 'SM-A536U', 'CPH2451'];
const amazonModels = ['KFTRWI', 'KFMAWI', 'AFTMM'];
const carriers = ['Verizon', 'T-Mobile', 'AT&T', 'Vodafone', 'Orange', 'O2'];
const timezones = ['America/New_York', 'America/Los_Angeles', 'Europe/London', 'Europe/Berlin', 'Asia/Tokyo', 'America/Sao_Paulo'];
const locales: readonly [string, string][] = [['en', 'US'], ['en', 'GB'], ['de', 'DE'], ['fr', 'FR'], ['ja', 'JP'], ['pt', 'BR']];
const browsers = ['chrome', 'safari', 'firefox', 'edge'];

export interface SyntheticDevice {
  platform: Platform;
  channel: string;
  namedUserId: string | undefined;
  contactId: string;
  /** The Connect `device` object, shared (never mutated) by every event of this device. */
  object: Record<string, unknown>;
}

export function devicePlatformOf(seed: number, index: number): Platform {
  return weightedPick(createPrng(mixSeed(seed, 0xdec1ce, index)), platformWeights);
}

/** Device `index` of the app seeded `seed`; the same arguments always give the same device. */
export function syntheticDevice(seed: number, index: number): SyntheticDevice {
  const prng = createPrng(mixSeed(seed, 0xdec1ce, index));
  const platform = weightedPick(prng, platformWeights);
  const channel = prng.uuid();
  const contactId = prng.uuid();
  // About a third of devices belong to a named user, as in the docs' examples.
  const namedUserId = prng.chance(0.35) ? `${prng.pick(firstNames)}-${prng.int(1, 99_999)}` : undefined;
  const object: Record<string, unknown> = {};
  const legacy = legacyChannelKey[platform];
  if (legacy) object[legacy] = channel;
  object.channel = channel;
  object.device_type = platform.toUpperCase();
  if (namedUserId) object.named_user_id = namedUserId;
  const identifiers = identifiersFor(platform, prng);
  if (identifiers) object.identifiers = identifiers;
  object.attributes = attributeProfile(platform, prng.int(0, profilesPerPlatform - 1));
  return { platform, channel, namedUserId, contactId, object };
}

function identifiersFor(platform: Platform, prng: Prng): Record<string, string> | undefined {
  switch (platform) {
    case 'android':
      return prng.chance(0.5) ? { 'com.urbanairship.aaid': prng.uuid() } : undefined;
    case 'ios':
      return prng.chance(0.3) ? { 'com.urbanairship.idfa': prng.uuid().toUpperCase() } : undefined;
    case 'open':
      return { open_platform_name: prng.pick(['smart_tv', 'kiosk', 'car']) };
    default:
      return undefined;
  }
}

/**
 * Devices share a few hundred attribute profiles (model, OS, locale, carrier …), built once:
 * real audiences cluster the same way, and building attributes per device dominated generation.
 */
const profilesPerPlatform = 64;
const profiles = new Map<Platform, readonly Record<string, string>[]>();

function attributeProfile(platform: Platform, index: number): Record<string, string> {
  let list = profiles.get(platform);
  if (!list) {
    const prng = createPrng(mixSeed(0xa77, platforms.indexOf(platform)));
    list = Array.from({ length: profilesPerPlatform }, () => Object.freeze(attributesFor(platform, prng)));
    profiles.set(platform, list);
  }
  return list[index]!;
}

/** Attribute values are all strings in Connect payloads. */
function attributesFor(platform: Platform, prng: Prng): Record<string, string> {
  const [language, country] = prng.pick(locales);
  const common: Record<string, string> = {
    iana_timezone: prng.pick(timezones),
    locale_language_code: language,
    locale_country_code: country,
  };
  switch (platform) {
    case 'ios':
    case 'android':
    case 'amazon': {
      const models = platform === 'ios' ? iosModels : platform === 'android' ? androidModels : amazonModels;
      return {
        ...common,
        app_version: String(prng.int(100, 499)),
        app_package_name: 'com.example.tributary',
        device_model: prng.pick(models),
        device_os: platform === 'ios' ? `${prng.int(15, 18)}.${prng.int(0, 6)}` : String(prng.int(9, 15)),
        carrier: prng.pick(carriers),
        connection_type: prng.pick(['wifi', 'cell']),
        location_enabled: String(prng.chance(0.6)),
        location_permission: prng.pick(['ALWAYS_ALLOWED', 'FOREGROUND_ALLOWED', 'DENIED', 'NOT_ALLOWED']),
        push_opt_in: String(prng.chance(0.7)),
        background_push_enabled: String(prng.chance(0.8)),
        ua_sdk_version: `${prng.int(14, 19)}.${prng.int(0, 9)}.${prng.int(0, 5)}`,
      };
    }
    case 'web':
      return { ...common, browser_name: prng.pick(browsers), browser_version: String(prng.int(100, 130)), ua_sdk_version: `2.${prng.int(0, 9)}.0` };
    case 'sms':
    case 'email':
    case 'open':
      return common;
  }
}
