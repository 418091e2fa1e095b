// The node's alerting component: owns one guardian policy and drives it — failure reports from
// the supervisors, a periodic scan of the state table (fleet view, stalls), a periodic tick —
// and carries its decisions out: pages through the pager (kept in an outbox and retried until
// sent), customer notifications to `tributary.notifications`, faults to Sentry, counts to StatsD.
import type { Admin } from 'kafkajs';
import { ensureTopic } from '../kafka/kafka.js';
import type { RecordProducer } from '../kafka/produce-queue.js';
import { topics } from '../kafka/topics.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { scrubText, type FaultReporter } from '../observability/sentry.js';
import type { IntegrationRow, StateStore } from '../state/state-store.js';
import type { AlertingConfig } from './alerting-config.js';
import { asTier, fleetSnapshot, StallDetector } from './alerting-fleet.js';
import { Outbox, type SendResult } from './alerting-outbox.js';
import { checkRetention, RetentionWatch, topicRetentionMs, type RetentionCheck } from './alerting-retention.js';
import { GuardianPolicy } from './guardian-policy.js';
import type { CustomerNotification, FailureReport, PageAction, PolicyOutput, Tier } from './guardian-types.js';
import { createPager, PagerError, type Pager } from './pager/index.js';

export interface AlertingServiceOptions {
  config: AlertingConfig;
  nodeId: string;
  logger: Logger;
  metrics: Metrics;
  state: Pick<StateStore, 'list' | 'get'>;
  /** For customer notifications (the node's idempotent produce queue). */
  producer: RecordProducer;
  /** Creates `tributary.notifications` when missing; without it the topic must exist. */
  admin?: Admin | undefined;
  faults: FaultReporter;
  /** Injected in tests; otherwise built from `config.pager` (secrets resolved now). */
  pager?: Pager | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  now?: () => number;
}

/** The wire format of one record on `tributary.notifications` (key: the integration id). */
export interface NotificationRecord {
  integrationId: string;
  appKey: string;
  reason: string;
  /** ISO 8601. */
  time: string;
}

export function notificationRecord(n: CustomerNotification): NotificationRecord {
  return { integrationId: n.integrationId, appKey: n.appKey, reason: scrubText(n.reason).slice(0, 1_000), time: new Date(n.time).toISOString() };
}

export interface AlertingStatus {
  openPages: { dedupKey: string; class: string; severity: string; since: string }[];
  outbox: { pages: number; notifications: number; shed: number };
  lastScan: { at: string; total: number; failing: number; stalled: number } | undefined;
  /** Integrations with an open retention-risk page. */
  retentionAtRisk: number;
  counters: ReturnType<GuardianPolicy['counters']>;
}

export class AlertingService {
  readonly policy: GuardianPolicy;
  private readonly pages: Outbox<PageAction>;
  private readonly notes: Outbox<CustomerNotification>;
  private readonly stalls: StallDetector;
  private readonly retention: RetentionWatch;
  private readonly retentionOf = new Map<string, { ms: number | undefined; at: number }>();
  private lastRetentionCheck = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly sinkTypes = new Map<string, string>();
  private readonly tierOf = new Map<string, Tier>();
  private timers: NodeJS.Timeout[] = [];
  private flushing: Promise<void> | undefined;
  private flushAgain = false;
  private scanning: Promise<void> | undefined;
  private topicReady = false;
  private abort = new AbortController();
  private stopped = false;
  private lastScan: AlertingStatus['lastScan'];

  private constructor(
    private readonly o: AlertingServiceOptions,
    private readonly pager: Pager,
  ) {
    this.policy = new GuardianPolicy(o.config.policy);
    this.pages = new Outbox(o.config.maxOutbox);
    this.notes = new Outbox(o.config.maxOutbox);
    this.stalls = new StallDetector(o.config.stall.afterMs);
    const r = o.config.retention;
    this.retention = new RetentionWatch({ source: this.policy.config.source, ratio: r.ratio, severity: r.severity, resolveAfterMs: this.policy.config.resolveAfterMs });
    this.now = o.now ?? Date.now;
    this.log = o.logger.child({ component: 'alerting' });
  }

  /** Builds the pager (a missing routing key fails here, at start-up, not at the first page). */
  static async create(o: AlertingServiceOptions): Promise<AlertingService> {
    const pager = o.pager ?? (await createPager(o.config.pager, { logger: o.logger.child({ component: 'pager' }), env: o.env ?? process.env }));
    return new AlertingService(o, pager);
  }

  get pagerType(): string {
    return this.pager.type;
  }

  /** Ensures the notifications topic, runs a first scan, and starts the scan and tick timers. */
  async start(): Promise<void> {
    await this.ensureNotificationsTopic();
    const every = (ms: number, fn: () => Promise<void>) => {
      const t = setInterval(() => void fn().catch((err) => this.log.error({ err: errorMessage(err) }, 'alerting step failed')), ms);
      t.unref();
      this.timers.push(t);
    };
    await this.scan();
    every(this.o.config.scanIntervalMs, () => this.scan());
    every(this.o.config.tickMs, () => this.tick());
    this.log.info(
      { pager: this.pager.type, scanIntervalMs: this.o.config.scanIntervalMs, tickMs: this.o.config.tickMs, source: this.policy.config.source, enabled: this.o.config.enabled },
      'alerting started',
    );
  }

  /** A supervisor's failure or recovery report: to Sentry (faults), then through the policy. */
  report(r: FailureReport): void {
    if (this.stopped) return;
    this.tierOf.set(r.integrationId, r.tier);
    if (r.kind === 'failure' && r.errorClass !== 'misconfiguration') void this.capture(r);
    if (!this.o.config.enabled) return;
    this.handle(this.policy.report(r));
  }

  /** One scan of the state table: stalls become reports; the snapshot feeds the fleet rule. */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce().finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  /** The periodic evaluation: time-based rules, then a retry of whatever was not delivered. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.o.config.enabled) this.handle(this.policy.evaluate(this.now()));
    this.o.metrics.gauge('alerting.open_pages', this.policy.openPages().length);
    this.o.metrics.gauge('alerting.outbox', this.pages.size + this.notes.size);
    await this.flush();
  }

  status(): AlertingStatus {
    return {
      openPages: this.policy.openPages().map((p) => ({ dedupKey: p.dedupKey, class: p.class, severity: p.severity, since: new Date(p.time).toISOString() })),
      outbox: { pages: this.pages.size, notifications: this.notes.size, shed: this.pages.shed + this.notes.shed },
      lastScan: this.lastScan,
      retentionAtRisk: this.retention.openCount,
      counters: this.policy.counters(),
    };
  }

  /**
   * Stops the timers and gives undelivered pages (resolves above all) until `timeoutMs` to go
   * out; then aborts. Whatever is left is logged: another node evaluating the same table sends
   * the same actions under the same keys.
   */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const deadline = setTimeout(() => this.abort.abort(new Error('alerting stopped')), timeoutMs);
    try {
      await this.scanning?.catch(() => undefined);
      await this.flush();
      if (this.pages.size + this.notes.size > 0 && !this.abort.signal.aborted) await this.flush();
    } finally {
      clearTimeout(deadline);
      this.abort.abort(new Error('alerting stopped'));
    }
    const left = this.pages.pending().map((e) => ({ action: e.item.action, dedupKey: e.item.dedupKey }));
    if (left.length > 0 || this.notes.size > 0) this.log.warn({ pages: left, notifications: this.notes.size }, 'alerting stopped with undelivered actions');
  }

  private async scanOnce(): Promise<void> {
    if (this.stopped) return;
    let rows: IntegrationRow[];
    try {
      rows = await this.o.state.list();
    } catch (err) {
      this.o.metrics.count('alerting.scans', 1, { outcome: 'failed' });
      // The node watchdog decides about DynamoDB; a missed scan only ages the fleet view.
      this.log.warn({ err: errorMessage(err) }, 'state table scan failed');
      return;
    }
    this.o.metrics.count('alerting.scans', 1, { outcome: 'ok' });
    const now = this.now();
    for (const row of rows) if (row.sinkType) this.sinkTypes.set(row.integrationId, row.sinkType);
    const { reports, stalled } = this.o.config.stall.enabled ? this.stalls.observe(rows, now) : { reports: [], stalled: [] };
    for (const r of reports) {
      this.log.warn({ integrationId: r.integrationId, kind: r.kind, since: new Date(r.time).toISOString() }, r.kind === 'failure' ? 'integration stalled: backlog and no delivery progress' : 'stalled integration delivering again');
      if (this.o.config.enabled) this.handle(this.policy.report(r));
    }
    const snapshot = fleetSnapshot(rows, now, stalled);
    this.lastScan = { at: new Date(now).toISOString(), total: snapshot.total, failing: snapshot.failing.length, stalled: stalled.length };
    this.o.metrics.gauge('alerting.fleet_failing', snapshot.failing.length);
    if (this.o.config.enabled) this.handle(this.policy.observeFleet(snapshot));
    if (this.o.config.retention.enabled && this.o.admin && now - this.lastRetentionCheck >= this.o.config.retention.checkIntervalMs) {
      this.lastRetentionCheck = now;
      await this.checkRetention(this.o.admin, rows, now);
    }
  }

  /**
   * Retention risk, from Kafka itself: only integrations whose row shows a backlog (consumer lag,
   * or produced beyond consumed) are checked, so a healthy fleet costs no Kafka calls. A check
   * that fails leaves that integration's page as it was (never resolved by an error).
   */
  private async checkRetention(admin: Admin, rows: readonly IntegrationRow[], now: number): Promise<void> {
    const cfg = this.o.config.retention;
    const candidates = rows.filter((r) => {
      if (r.appKey === undefined || r.status === undefined || !['running', 'failing', 'misconfigured', 'starting'].includes(r.status)) return false;
      const c = r.counters ?? {};
      const backlog = (c.produced ?? 0) - (c.delivered ?? 0) - (c.dlq ?? 0) - (c.deduplicated ?? 0);
      return (r.consumerLag ?? 0) > 0 || backlog > 0;
    });
    const checks: RetentionCheck[] = [];
    const failed = new Set<string>();
    for (const row of candidates) {
      if (this.stopped) return;
      try {
        let ret = this.retentionOf.get(row.integrationId);
        if (ret === undefined || now - ret.at >= cfg.configTtlMs) {
          ret = { ms: await topicRetentionMs(admin, row.integrationId), at: now };
          this.retentionOf.set(row.integrationId, ret);
        }
        if (ret.ms === undefined) continue;
        const { atRisk, backlog } = await checkRetention(admin, row.integrationId, ret.ms, cfg.ratio, now);
        checks.push({ integrationId: row.integrationId, appKey: row.appKey!, tier: asTier(row.tier), atRisk, backlog, retentionMs: ret.ms });
        if (atRisk) this.log.warn({ integrationId: row.integrationId, backlog, retentionMs: ret.ms }, 'undelivered events approaching the retention limit');
      } catch (err) {
        failed.add(row.integrationId);
        this.log.warn({ integrationId: row.integrationId, err: errorMessage(err) }, 'retention check failed');
      }
    }
    // An integration whose check failed keeps its page as it is: report it at risk if open.
    const open = this.retention.openIds();
    for (const id of failed) if (open.has(id)) checks.push(open.get(id)!);
    for (const id of this.retentionOf.keys()) if (!rows.some((r) => r.integrationId === id)) this.retentionOf.delete(id);
    const pages = this.retention.observe(checks, now);
    if (this.o.config.enabled && pages.length > 0) this.handle({ pages, notifications: [] });
  }

  private handle(out: PolicyOutput): void {
    const now = this.now();
    for (const p of out.pages) {
      const line = { dedupKey: p.dedupKey, rule: p.class, severity: p.severity, summary: p.summary };
      if (p.action === 'trigger') this.log.warn(line, 'page triggered');
      else this.log.info(line, 'page resolved');
      this.pages.add(p, p.dedupKey, p.action === 'resolve', now);
    }
    for (const n of out.notifications) {
      this.log.info({ integrationId: n.integrationId, appKey: n.appKey }, 'customer notification: integration misconfigured');
      this.notes.add(n, n.integrationId, true, now);
    }
    if (out.pages.length + out.notifications.length > 0) void this.flush();
  }

  /** Single flight: a flush asked for while one runs starts right after it. */
  private flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      do {
        this.flushAgain = false;
        await this.flushPages();
        await this.flushNotifications();
      } while (this.flushAgain && !this.abort.signal.aborted);
    })().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushPages(): Promise<void> {
    if (this.pages.size === 0) return;
    const report = await this.pages.flush(async (action): Promise<SendResult | { result: SendResult; error: string }> => {
      try {
        await this.pager.send(action, this.abort.signal);
        this.o.metrics.count('alerting.pages', 1, { action: action.action, rule: action.class });
        return 'sent';
      } catch (err) {
        this.o.metrics.count('alerting.page_failures', 1, { action: action.action });
        const permanent = err instanceof PagerError && !err.retriable;
        return { result: permanent ? 'drop' : 'retry', error: errorMessage(err) };
      }
    });
    for (const f of report.failed) {
      this.log.warn({ dedupKey: f.item.dedupKey, action: f.item.action, attempts: f.attempts, err: f.error }, 'page not delivered; retrying on the next tick');
    }
    for (const d of report.dropped) {
      this.log.error({ dedupKey: d.item.dedupKey, action: d.item.action, err: d.error }, 'page refused by the pager; dropped (check the pager configuration)');
    }
  }

  private async flushNotifications(): Promise<void> {
    if (this.notes.size === 0) return;
    if (!this.topicReady) await this.ensureNotificationsTopic();
    if (!this.topicReady) return;
    const report = await this.notes.flush(async (n) => {
      await this.o.producer.send(topics.notifications, [{ key: n.integrationId, value: JSON.stringify(notificationRecord(n)) }]);
      this.o.metrics.count('alerting.notifications', 1, { tier: this.tierOf.get(n.integrationId) ?? 'unknown' });
      return 'sent';
    });
    for (const f of report.failed) this.log.warn({ integrationId: f.item.integrationId, attempts: f.attempts, err: f.error }, 'customer notification not produced; retrying on the next tick');
  }

  private async ensureNotificationsTopic(): Promise<void> {
    if (this.topicReady) return;
    if (!this.o.admin) {
      this.topicReady = true;
      return;
    }
    const n = this.o.config.notifications;
    try {
      await ensureTopic(this.o.admin, { topic: topics.notifications, partitions: n.partitions, retentionMs: n.retentionMs }, 15_000);
      this.topicReady = true;
    } catch (err) {
      this.log.warn({ err: errorMessage(err), topic: topics.notifications }, 'cannot ensure the notifications topic yet; retrying on the next tick');
    }
  }

  /** One Sentry event per fault, grouped by [class, sink type, normalised message]. */
  private async capture(r: FailureReport): Promise<void> {
    if (!this.o.faults.enabled) return;
    // The supervisor's fingerprint names the stage: `connect` for the source side.
    let sinkType = r.fingerprint.split('|')[2] === 'connect' ? 'connect' : this.sinkTypes.get(r.integrationId);
    if (sinkType === undefined) {
      sinkType = (await this.o.state.get(r.integrationId).catch(() => undefined))?.sinkType ?? 'unknown';
      if (sinkType !== 'unknown') this.sinkTypes.set(r.integrationId, sinkType);
    }
    // The supervisor reports the error's message and fingerprint, not the error object.
    const error = new Error(r.message ?? r.fingerprint);
    error.name = `${r.errorClass}:${r.fingerprint.split('|')[1] ?? 'unknown'}`;
    const outcome = this.o.faults.captureFault({
      error,
      integrationId: r.integrationId,
      appKey: r.appKey,
      tier: r.tier,
      sinkType,
      errorClass: r.errorClass,
      fingerprint: r.fingerprint,
      nodeId: r.nodeId,
    });
    if (outcome !== 'disabled') this.o.metrics.count('alerting.sentry_events', 1, { outcome });
  }
}
