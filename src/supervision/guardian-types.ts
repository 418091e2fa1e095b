// The guardian policy's vocabulary: what it consumes (failure reports, fleet snapshots) and
// what it decides (page actions, customer notifications). Plain data, no behaviour.
import type { ErrorKind } from '../errors.js';

export const Tier = { small: 'small', medium: 'medium', large: 'large' } as const;
export type Tier = (typeof Tier)[keyof typeof Tier];
export const tiers = Object.values(Tier);

/** One supervised crash, halt or recovery of an integration, as its supervisor reports it. */
export interface FailureReport {
  /** Epoch milliseconds at which it happened (the reporter's clock). */
  readonly time: number;
  readonly integrationId: string;
  readonly appKey: string;
  readonly tier: Tier;
  readonly kind: 'failure' | 'recovery';
  /** For a recovery, the class of the failure it recovers from, or any value (ignored). */
  readonly errorClass: ErrorKind;
  readonly fingerprint: string;
  readonly nodeId?: string | undefined;
  /** A short, secret-free message for the customer notification (misconfiguration). */
  readonly message?: string | undefined;
}

/** One integration that the state table shows as not healthy (failing or misconfigured). */
export interface FleetMember {
  readonly integrationId: string;
  readonly appKey?: string | undefined;
  readonly tier?: Tier | undefined;
  /** Unknown ⇒ counted as failing for the fleet rule. */
  readonly errorClass?: ErrorKind | undefined;
  readonly fingerprint?: string | undefined;
  readonly nodeId?: string | undefined;
  /** Epoch ms of its last recorded failure; defaults to the snapshot time. */
  readonly lastFailureAt?: number | undefined;
}

/**
 * The cluster-wide view from one scan of the state table: how many integrations exist and
 * which of them are not healthy. Every node scanning the same table sees the same snapshot,
 * so every node reaches the same fleet decision under the same dedup key.
 */
export interface FleetSnapshot {
  /** Epoch ms of the scan. */
  readonly time: number;
  /** Every known integration (running, paused, failing, misconfigured). */
  readonly total: number;
  /** Integrations whose state row is failing or misconfigured (paused by an operator: not listed). */
  readonly failing: readonly FleetMember[];
}

export const PageSeverity = { critical: 'critical', error: 'error', warning: 'warning' } as const;
export type PageSeverity = (typeof PageSeverity)[keyof typeof PageSeverity];

/** Which rule opened a page; part of every page's details. */
export const PageRule = {
  largeIntegration: 'integration.large',
  mediumIntegration: 'integration.medium',
  smallIntegration: 'integration.small',
  fleet: 'fleet',
  systemic: 'systemic',
  /** An undelivered event older than a share of its topic's retention (alerting-retention.ts). */
  retention: 'integration.retention',
} as const;
export type PageRule = (typeof PageRule)[keyof typeof PageRule];

/** A decision to open or close a page. Keyed by `dedupKey`: one incident per key at a time. */
export interface PageAction {
  readonly action: 'trigger' | 'resolve';
  readonly dedupKey: string;
  readonly severity: PageSeverity;
  readonly summary: string;
  /** The cluster that pages (config `source`), the same on every node. */
  readonly source: string;
  /** Epoch ms of the decision. */
  readonly time: number;
  /** PagerDuty `component`: the integration id, `fleet`, or `fingerprint`. */
  readonly component: string;
  /** PagerDuty `group`: the app key or size tier. */
  readonly group: string;
  /** PagerDuty `class`: the rule that decided. */
  readonly class: PageRule;
  readonly details: Readonly<Record<string, unknown>>;
}

/** Tells the customer an integration is paused on its own configuration (never a page). */
export interface CustomerNotification {
  readonly integrationId: string;
  readonly appKey: string;
  readonly reason: string;
  /** Epoch ms. */
  readonly time: number;
}

export interface PolicyOutput {
  readonly pages: PageAction[];
  readonly notifications: CustomerNotification[];
}

/** Tallies kept for StatsD and `/status`; counted, never paged by themselves. */
export interface PolicyCounters {
  reports: number;
  failures: number;
  recoveries: number;
  /** Failures that reopened an episode still inside its resolve window. */
  flaps: number;
  /** Failures by error class (node faults included: counted here, paged only via the fleet rule). */
  byKind: Record<ErrorKind, number>;
  /** Integration pages held back because a fleet or systemic page covers them. */
  suppressed: number;
  triggers: number;
  resolves: number;
  notifications: number;
}
