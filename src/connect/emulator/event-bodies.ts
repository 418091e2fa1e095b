// Realistic `body` objects per Connect event type (CONNECT_API.md §4), and which platforms
// produce each type. Bodies of types the notes only name (newer IN_APP_*, WEB_*) are inferred.
import type { Platform } from './devices.js';
import type { Prng } from './prng.js';

const mobile: readonly Platform[] = ['ios', 'android', 'amazon'];
const appLike: readonly Platform[] = ['ios', 'android', 'amazon', 'web'];
const all: readonly Platform[] = ['ios', 'android', 'amazon', 'web', 'sms', 'email', 'open'];

/** A push the app sent recently; SEND, OPEN and IN_APP_* events refer back to it. */
export interface RecentPush {
  push_id: string;
  group_id?: string;
  variant_id?: number;
  time: string;
}

export interface BodyContext {
  prng: Prng;
  /** Never empty: the generator seeds it with one push. */
  recentPushes: readonly RecentPush[];
  /** The push a PUSH_BODY announces; set only for PUSH_BODY. */
  newPush?: RecentPush;
  occurredIso: string;
}

export interface EventTypeSpec {
  type: string;
  /** Relative frequency in a typical app's stream. */
  weight: number;
  platforms: readonly Platform[];
  /** Undefined when the type has no body (FIRST_OPEN, UNINSTALL). */
  body?: (c: BodyContext) => Record<string, unknown>;
  /** PUSH_BODY is the only type without a device. */
  deviceless?: boolean;
}

const screens = ['HomeActivity', 'MessageActivity', 'ProductDetail', 'Cart', 'Checkout', 'Settings', 'Search', 'Profile'];
const customNames = ['purchased', 'added_to_cart', 'viewed_product', 'shared', 'signed_up', 'level_completed', 'searched'];
const tagGroups = ['device', 'interests', 'loyalty', 'crm'];
const tags = ['I_like_horses', 'sports', 'news', 'deals', 'gold', 'silver', 'vip', 'beta_tester', 'weekly_digest'];

function pushRef(c: BodyContext): RecentPush {
  return c.prng.pick(c.recentPushes);
}

function associated(p: RecentPush): Record<string, unknown> {
  return p.group_id ? { push_id: p.push_id, group_id: p.group_id } : { push_id: p.push_id };
}

function withPush(c: BodyContext, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const p = pushRef(c);
  const body: Record<string, unknown> = { push_id: p.push_id };
  if (p.group_id) body.group_id = p.group_id;
  if (p.variant_id !== undefined) body.variant_id = p.variant_id;
  return { ...body, ...extra };
}

function tagMap(c: BodyContext): Record<string, string[]> {
  return { [c.prng.pick(tagGroups)]: [c.prng.pick(tags)] };
}

export const eventTypeSpecs: readonly EventTypeSpec[] = [
  { type: 'SEND', weight: 20, platforms: all, body: (c) => withPush(c) },
  {
    type: 'PUSH_BODY',
    weight: 1,
    platforms: all,
    deviceless: true,
    body: (c) => {
      const p = c.newPush ?? pushRef(c);
      const payload = { audience: 'all', notification: { alert: `Offer ${c.prng.int(1, 999)} is live` }, device_types: ['ios', 'android'] };
      return { ...associated(p), payload: Buffer.from(JSON.stringify(payload)).toString('base64'), trimmed: false };
    },
  },
  {
    type: 'OPEN',
    weight: 8,
    platforms: appLike,
    body: (c) => {
      const body: Record<string, unknown> = { session_id: c.prng.uuid() };
      if (c.prng.chance(0.6)) body.last_delivered = associated(pushRef(c));
      if (c.prng.chance(0.3)) body.triggering_push = associated(pushRef(c));
      return body;
    },
  },
  { type: 'CLOSE', weight: 8, platforms: appLike, body: (c) => ({ session_id: c.prng.uuid() }) },
  {
    type: 'CUSTOM',
    weight: 15,
    platforms: all,
    body: (c) => {
      const body: Record<string, unknown> = {
        name: c.prng.pick(customNames),
        interaction_type: c.prng.pick(['url', 'ua_mcrap', 'custom']),
        interaction_id: `https://example.com/p/${c.prng.int(1, 50_000)}`,
        session_id: c.prng.uuid(),
      };
      if (c.prng.chance(0.7)) body.value = c.prng.int(1, 100_000) / 100;
      if (c.prng.chance(0.2)) body.triggering_push = associated(pushRef(c));
      body.properties = { sku: `SKU-${c.prng.int(1000, 9999)}`, category: c.prng.pick(['shoes', 'books', 'games', 'garden']) };
      return body;
    },
  },
  {
    type: 'SCREEN_VIEWED',
    weight: 12,
    platforms: mobile,
    body: (c) => ({
      duration: c.prng.int(200, 120_000),
      viewed_screen: c.prng.pick(screens),
      previous_screen: c.prng.pick(screens),
      session_id: c.prng.uuid(),
    }),
  },
  {
    type: 'LOCATION',
    weight: 4,
    platforms: mobile,
    body: (c) => ({
      latitude: String(c.prng.next() * 140 - 70),
      longitude: String(c.prng.next() * 360 - 180),
      foreground: c.prng.chance(0.7),
      session_id: c.prng.uuid(),
    }),
  },
  {
    type: 'REGION',
    weight: 2,
    platforms: mobile,
    body: (c) => {
      const lat = c.prng.next() * 140 - 70;
      const long = c.prng.next() * 360 - 180;
      const body: Record<string, unknown> = {
        action: c.prng.pick(['enter', 'exit']),
        region_id: c.prng.uuid(),
        source: 'Gimbal',
        session_id: c.prng.uuid(),
      };
      if (c.prng.chance(0.5)) {
        body.proximity = { beacon_id: c.prng.uuid(), major: c.prng.int(1, 65_535), minor: c.prng.int(1, 65_535), rssi: -c.prng.int(30, 100), lat, long };
      } else {
        body.circular_region = { lat, long, radius: c.prng.int(50, 2_000) };
      }
      return body;
    },
  },
  {
    type: 'TAG_CHANGE',
    weight: 4,
    platforms: all,
    body: (c) => {
      const added = tagMap(c);
      const body: Record<string, unknown> = c.prng.chance(0.7) ? { add: added } : { remove: added };
      body.current = c.prng.chance(0.7) ? added : tagMap(c);
      return body;
    },
  },
  {
    type: 'ATTRIBUTE_OPERATION',
    weight: 4,
    platforms: all,
    body: (c) =>
      c.prng.chance(0.8)
        ? { set: [{ key: c.prng.pick(['loyalty_tier', 'favourite_team', 'first_name', 'birthdate']), value: c.prng.pick(['gold', 'silver', 'blue', 'Ana']), type: 'string' }] }
        : { remove: [{ key: c.prng.pick(['loyalty_tier', 'favourite_team']), value: '' }] },
  },
  { type: 'FIRST_OPEN', weight: 1, platforms: appLike },
  { type: 'UNINSTALL', weight: 1, platforms: all },
  {
    type: 'IN_APP_MESSAGE_DISPLAY',
    weight: 3,
    platforms: mobile,
    body: (c) => withPush(c, { triggering_push: associated(pushRef(c)), session_id: c.prng.uuid() }),
  },
  {
    type: 'IN_APP_MESSAGE_RESOLUTION',
    weight: 2,
    platforms: mobile,
    body: (c) => {
      const type = c.prng.pick(['BUTTON_CLICK', 'MESSAGE_CLICK', 'TIMED_OUT', 'USER_DISMISSED']);
      const body = withPush(c, { session_id: c.prng.uuid(), type, duration: c.prng.int(300, 30_000), time_sent: c.occurredIso });
      if (type === 'BUTTON_CLICK') Object.assign(body, { button_id: `btn-${c.prng.int(1, 3)}`, button_group: 'ua_yes_no', button_description: 'Yes' });
      return body;
    },
  },
  {
    type: 'IN_APP_MESSAGE_EXPIRATION',
    weight: 1,
    platforms: mobile,
    body: (c) => withPush(c, { triggering_push: associated(pushRef(c)), session_id: c.prng.uuid(), type: c.prng.pick(['EXPIRED', 'REPLACED']), time_expired: c.occurredIso }),
  },
  { type: 'IN_APP_BUTTON_TAP', weight: 1, platforms: mobile, body: (c) => withPush(c, { button_identifier: `button_${c.prng.int(1, 4)}`, session_id: c.prng.uuid() }) },
  { type: 'IN_APP_PAGE_VIEW', weight: 1, platforms: mobile, body: (c) => withPush(c, { page_identifier: `page_${c.prng.int(0, 5)}`, page_index: c.prng.int(0, 5), page_count: 6, completed: c.prng.chance(0.3), session_id: c.prng.uuid() }) },
  { type: 'RICH_DELIVERY', weight: 1, platforms: mobile, body: (c) => withPush(c) },
  { type: 'RICH_READ', weight: 1, platforms: mobile, body: (c) => withPush(c) },
  { type: 'RICH_DELETE', weight: 0.3, platforms: mobile, body: (c) => withPush(c) },
  { type: 'CONTROL', weight: 0.5, platforms: all, body: (c) => { const p = pushRef(c); return associated(p); } },
  { type: 'SEND_REJECTED', weight: 0.3, platforms: all, body: (c) => withPush(c, { reason: c.prng.pick(['UNREGISTERED', 'INVALID_TOKEN']) }) },
  { type: 'WEB_SESSION', weight: 2, platforms: ['web'], body: (c) => ({ session_id: c.prng.uuid(), ...(c.prng.chance(0.3) ? { last_delivered: associated(pushRef(c)) } : {}) }) },
  { type: 'WEB_CLICK', weight: 1, platforms: ['web'], body: (c) => withPush(c, { session_id: c.prng.uuid() }) },
  { type: 'SHORT_LINK_CLICK', weight: 0.3, platforms: ['sms', 'email'], body: (c) => withPush(c, { original_url: `https://example.com/offer/${c.prng.int(1, 500)}` }) },
  { type: 'SUBSCRIPTION', weight: 0.3, platforms: ['sms', 'email'], body: (c) => (c.prng.chance(0.5) ? { commercial_opted_in: c.occurredIso } : { transactional_opted_in: c.occurredIso }) },
  {
    type: 'COMPLIANCE',
    weight: 0.2,
    platforms: all,
    body: (c) => ({ compliance_type: c.prng.pick(['UNINSTALL', 'OPT_OUT', 'DATA_DELETION']), reason: c.prng.pick(['user_request', 'regulatory']) }),
  },
];
