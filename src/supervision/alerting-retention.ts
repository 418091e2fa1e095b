// Retention risk: an undelivered event older than a share of its events topic's retention pages
// (critical, every tier) before Kafka can delete it. The check reads Kafka (committed offsets vs
// offsets by timestamp); the page decision is pure and keyed per integration.
// kafkajs is CommonJS: its enums are not visible as ESM named exports at run time.
import kafkajs, { type Admin } from 'kafkajs';
const { ConfigResourceTypes } = kafkajs;
import { committedOffsets } from '../kafka/tail-reader.js';
import { groups, topics } from '../kafka/topics.js';
import { retentionDedupKey } from './dedup-keys.js';
import { PageRule, type PageAction, type PageSeverity, type Tier } from './guardian-types.js';

export interface RetentionCheck {
  integrationId: string;
  appKey: string;
  tier: Tier | undefined;
  /** An undelivered record is older than `ratio × retentionMs`. */
  atRisk: boolean;
  /** Records in Kafka past the sink's committed offsets. */
  backlog: number;
  retentionMs: number;
}

/**
 * One integration against Kafka: the sink group's committed offsets (none ⇒ the partition's
 * start, where the sink begins) against the first offset written at or after `now − ratio ×
 * retention`. An undelivered record below that offset is older than the limit.
 */
export async function checkRetention(admin: Admin, integrationId: string, retentionMs: number, ratio: number, now: number): Promise<{ atRisk: boolean; backlog: number }> {
  const topic = topics.events(integrationId);
  const [committed, ends, cutoff] = await Promise.all([
    committedOffsets(admin, groups.sink(integrationId), topic),
    admin.fetchTopicOffsets(topic),
    admin.fetchTopicOffsetsByTimestamp(topic, Math.floor(now - ratio * retentionMs)),
  ]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  const limit = new Map(cutoff.map((p) => [p.partition, Number(p.offset)]));
  let atRisk = false;
  let backlog = 0;
  for (const p of ends) {
    const low = Number(p.low);
    const high = Number(p.high);
    const c = done.get(p.partition);
    const next = Math.max(low, c === undefined || c < 0 ? low : c);
    backlog += Math.max(0, high - next);
    // The first record written at or after the cutoff; everything below it is older.
    const firstYoung = limit.get(p.partition) ?? high;
    if (next < Math.min(firstYoung, high)) atRisk = true;
  }
  return { atRisk, backlog };
}

/** The events topic's retention.ms as the broker has it (the spec's or the tier's, as created). */
export async function topicRetentionMs(admin: Admin, integrationId: string): Promise<number | undefined> {
  const res = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.events(integrationId), configNames: ['retention.ms'] }],
  });
  const v = res.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
  const n = v === undefined ? Number.NaN : Number(v);
  // -1 is "keep forever": nothing can expire.
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

interface OpenRisk {
  page: PageAction;
  clearSince: number | undefined;
}

/**
 * Pure page decisions over retention checks: trigger once per integration when at risk,
 * resolve once it has been clear for `resolveAfterMs` (or is no longer checked: deleted,
 * paused, drained). Dedup keys depend on the integration only, so every node agrees.
 */
export class RetentionWatch {
  private readonly open = new Map<string, OpenRisk>();

  constructor(private readonly o: { source: string; ratio: number; severity: PageSeverity; resolveAfterMs: number }) {}

  get openCount(): number {
    return this.open.size;
  }

  /** Open risks as at-risk checks, for a round in which their check could not run. */
  openIds(): Map<string, RetentionCheck> {
    return new Map(
      [...this.open].map(([id, o]) => {
        const d = o.page.details as { appKey: string; tier: Tier | undefined; backlog: number; retentionMs: number };
        return [id, { integrationId: id, appKey: d.appKey, tier: d.tier, atRisk: true, backlog: d.backlog, retentionMs: d.retentionMs }];
      }),
    );
  }

  /** One round of checks (every integration with a backlog); absent ones count as clear. */
  observe(checks: readonly RetentionCheck[], now: number): PageAction[] {
    const out: PageAction[] = [];
    const seen = new Set<string>();
    for (const c of checks) {
      seen.add(c.integrationId);
      const cur = this.open.get(c.integrationId);
      if (c.atRisk) {
        if (cur) cur.clearSince = undefined;
        else {
          const page = this.page(c, now);
          this.open.set(c.integrationId, { page, clearSince: undefined });
          out.push(page);
        }
      } else if (cur) {
        cur.clearSince ??= now;
      }
    }
    for (const [id, cur] of this.open) {
      if (!seen.has(id)) cur.clearSince ??= now;
      if (cur.clearSince !== undefined && now - cur.clearSince >= this.o.resolveAfterMs) {
        this.open.delete(id);
        out.push({ ...cur.page, action: 'resolve', time: now, details: { ...cur.page.details, reason: 'oldest undelivered event back under the limit', triggeredAt: new Date(cur.page.time).toISOString(), openForMs: now - cur.page.time } });
      }
    }
    return out;
  }

  private page(c: RetentionCheck, now: number): PageAction {
    const pct = Math.round(this.o.ratio * 100);
    const hours = (ms: number) => `${(ms / 3_600_000).toFixed(ms % 3_600_000 === 0 ? 0 : 1)} h`;
    return {
      action: 'trigger',
      dedupKey: retentionDedupKey(this.o.source, c.integrationId),
      severity: this.o.severity,
      summary:
        `App ${c.appKey}: integration ${c.integrationId} has undelivered events older than ${pct}% of retention ` +
        `(${hours(this.o.ratio * c.retentionMs)} of ${hours(c.retentionMs)}); ${c.backlog} events waiting — data expires unless delivery catches up`,
      source: this.o.source,
      time: now,
      component: c.integrationId,
      group: c.appKey,
      class: PageRule.retention,
      details: { rule: PageRule.retention, integrationId: c.integrationId, appKey: c.appKey, tier: c.tier, backlog: c.backlog, retentionMs: c.retentionMs, ratio: this.o.ratio },
    };
  }
}
