// "Cattle, not pets" (ARCHITECTURE.md §3): a watchdog probes Kafka and DynamoDB every few
// seconds; one unreachable for longer than the grace period is a node fault — one clear log
// line, then `onFatal`, and the node runner exits non-zero so the orchestrator replaces it.
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { RawKafka } from '../kafka/raw-kafka.js';
import type { Logger } from '../observability/logger.js';
import type { MetricName, Metrics } from '../observability/metrics.js';

export const nodeHealthConfigSchema = z.strictObject({
  /** How often each dependency is probed. */
  probeIntervalMs: z.number().int().min(50).default(5_000),
  /** A probe without an answer after this long counts as a failure. */
  probeTimeoutMs: z.number().int().min(50).default(5_000),
  /** Unreachable continuously for longer than this ⇒ node fault (exit non-zero). */
  graceMs: z.number().int().min(0).default(60_000),
  /** /readyz waits at most this long after start for the sinks' start-up checks, then turns green anyway (logged). */
  startupChecksMs: z.number().int().min(0).default(60_000),
});
export type NodeHealthConfig = z.infer<typeof nodeHealthConfigSchema>;

/** One dependency's reachability over time. Pure: time comes in with every observation. */
export class Reachability {
  /** Start of the current unbroken run of failed probes; undefined while reachable. */
  downSince: number | undefined;
  lastDetail = 'not probed yet';
  lastProbeAt: number | undefined;
  ok: boolean;

  constructor(
    readonly name: string,
    private readonly graceMs: number,
    /** Start-up checks passed: reachable as of `since`. */
    since: number,
  ) {
    this.ok = true;
    this.lastProbeAt = since;
    this.lastDetail = 'start-up check passed';
  }

  record(ok: boolean, now: number, detail = ok ? 'ok' : 'unreachable'): void {
    this.ok = ok;
    this.lastProbeAt = now;
    this.lastDetail = detail;
    if (ok) this.downSince = undefined;
    else this.downSince ??= now;
  }

  /** Down for longer than the grace period, continuously. */
  expired(now: number): boolean {
    return this.downSince !== undefined && now - this.downSince > this.graceMs;
  }

  describe(): string {
    if (this.ok) return 'ok';
    return `unreachable since ${new Date(this.downSince!).toISOString()}: ${this.lastDetail}`;
  }
}

export interface Probe {
  /** Human name in the fatal line: `Kafka (10.0.0.1:9092)`. */
  label: string;
  gauge: MetricName;
  check(): Promise<unknown>;
}

export interface NodeWatchdogOptions {
  config: Pick<NodeHealthConfig, 'probeIntervalMs' | 'probeTimeoutMs' | 'graceMs'>;
  probes: Record<string, Probe>;
  logger: Logger;
  metrics: Metrics;
  /** Called once, with the reason, when a dependency stayed unreachable past the grace period. */
  onFatal(reason: string): void;
  now?: () => number;
}

interface Pending {
  since: number;
  settled: boolean;
}

export class NodeWatchdog {
  private readonly now: () => number;
  readonly deps: Map<string, Reachability>;
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private fatal: string | undefined;
  private stopped = false;

  constructor(private readonly o: NodeWatchdogOptions) {
    this.now = o.now ?? Date.now;
    const t = this.now();
    this.deps = new Map(Object.keys(o.probes).map((k) => [k, new Reachability(k, o.config.graceMs, t)]));
  }

  start(): void {
    for (const [name, p] of Object.entries(this.o.probes)) this.o.metrics.gauge(p.gauge, this.deps.get(name)!.ok ? 1 : 0);
    this.timer = setInterval(() => this.probeAll(), this.o.config.probeIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The reason of the node fault, once declared. */
  get fatalReason(): string | undefined {
    return this.fatal;
  }

  /** For /readyz: the last probe of each dependency. */
  checks(): Record<string, string> {
    return Object.fromEntries([...this.deps].map(([k, d]) => [k, d.describe()]));
  }

  ready(): boolean {
    return this.fatal === undefined && [...this.deps.values()].every((d) => d.ok);
  }

  /** Starts a probe of every dependency not already waiting on one; judges the overdue ones. */
  probeAll(): void {
    if (this.stopped) return;
    for (const [name, probe] of Object.entries(this.o.probes)) {
      const p = this.pending.get(name);
      if (p && !p.settled) {
        // A hung call (kafkajs retries inside) is not re-issued; past the timeout it counts as down.
        if (this.now() - p.since >= this.o.config.probeTimeoutMs) {
          this.observe(name, false, `no answer within ${this.o.config.probeTimeoutMs} ms`);
        }
        continue;
      }
      const entry: Pending = { since: this.now(), settled: false };
      this.pending.set(name, entry);
      const timeout = new Promise<never>((_, reject) => {
        const t = setTimeout(() => reject(new Error(`no answer within ${this.o.config.probeTimeoutMs} ms`)), this.o.config.probeTimeoutMs);
        t.unref();
      });
      const call = probe.check();
      call.then(
        () => (entry.settled = true),
        () => (entry.settled = true),
      );
      Promise.race([call, timeout]).then(
        () => this.observe(name, true),
        (err: unknown) => this.observe(name, false, errorMessage(err).slice(0, 300)),
      );
    }
  }

  /** Records one probe result and declares the node fault when a dependency's grace ran out. */
  observe(name: string, ok: boolean, detail?: string): void {
    if (this.stopped) return;
    const dep = this.deps.get(name);
    const probe = this.o.probes[name];
    if (!dep || !probe) return;
    const now = this.now();
    const was = dep.ok;
    dep.record(ok, now, detail);
    this.o.metrics.gauge(probe.gauge, ok ? 1 : 0);
    if (was && !ok) this.o.logger.warn({ check: name, err: detail, graceMs: this.o.config.graceMs }, `${probe.label} unreachable; the node exits if it stays so for the grace period`);
    if (!was && ok) this.o.logger.info({ check: name }, `${probe.label} reachable again`);
    if (this.fatal === undefined && dep.expired(now)) {
      const forS = Math.round((now - dep.downSince!) / 1000);
      this.fatal =
        `node fault: ${probe.label} unreachable since ${new Date(dep.downSince!).toISOString()} ` +
        `(${forS} s, grace ${Math.round(this.o.config.graceMs / 1000)} s): ${dep.lastDetail}`;
      this.o.logger.error({ check: name, downSince: new Date(dep.downSince!).toISOString(), graceMs: this.o.config.graceMs, err: dep.lastDetail }, `${this.fatal}; exiting so the orchestrator replaces this node`);
      this.stop();
      this.o.onFatal(this.fatal);
    }
  }
}

/**
 * The node's two probes, both cheap whatever the cluster's size: the Kafka brokers' list (a
 * Metadata request naming no topic) and the state table's description.
 */
export function nodeProbes(o: { kafka: Pick<RawKafka, 'brokersOnly'>; brokers: readonly string[]; dynamo: DynamoDBClient; table: string }): Record<string, Probe> {
  return {
    kafka: { label: `Kafka (${o.brokers.join(',')})`, gauge: 'node.kafka_up', check: () => o.kafka.brokersOnly() },
    dynamodb: { label: `DynamoDB (table ${o.table})`, gauge: 'node.dynamodb_up', check: () => o.dynamo.send(new DescribeTableCommand({ TableName: o.table })) },
  };
}
