// The guardian policy's configuration: one zod schema gives the defaults of docs/alerting.md,
// the type, and messages that name the bad key. Milliseconds everywhere.
import { z } from 'zod';
import { ConfigError, ErrorCode, ErrorKind } from '../errors.js';
import { zodIssues } from '../config/zod-issues.js';
import { PageSeverity } from './guardian-types.js';

const kindSchema = z.enum(Object.values(ErrorKind) as [ErrorKind, ...ErrorKind[]]);
const severitySchema = z.enum(Object.values(PageSeverity) as [PageSeverity, ...PageSeverity[]]);
const durationMs = z.number().int().nonnegative();

function tierRule(defaults: { enabled: boolean; failingForMs: number; severity: PageSeverity }) {
  return z
    .strictObject({
      enabled: z.boolean().default(defaults.enabled),
      /** How long an integration of this tier must fail continuously before it pages. */
      failingForMs: durationMs.default(defaults.failingForMs),
      severity: severitySchema.default(defaults.severity),
    })
    .prefault({});
}

export const guardianPolicyConfigSchema = z.strictObject({
  /** Names the cluster in every page and prefixes every dedup key (two clusters, two incidents). */
  source: z.string().min(1).max(100).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').default('tributary'),
  /**
   * Hysteresis: how long a condition must stay clear before its page resolves (and before an
   * integration's failure episode ends). A failure inside this window continues the episode.
   * 30 s so pages resolve within 60 s of recovery even with a 10–20 s evaluation or scan period.
   */
  resolveAfterMs: durationMs.default(30_000),
  /** Error classes that make an integration's own failure page-worthy (tier rules). */
  pageableKinds: z.array(kindSchema).default(['retryable', 'permanent', 'fatal']),
  tiers: z
    .strictObject({
      large: tierRule({ enabled: true, failingForMs: 5 * 60_000, severity: 'critical' }),
      medium: tierRule({ enabled: true, failingForMs: 30 * 60_000, severity: 'error' }),
      /** Small apps never page alone by default; they count toward the fleet rule. */
      small: tierRule({ enabled: false, failingForMs: 4 * 3_600_000, severity: 'warning' }),
    })
    .prefault({}),
  fleet: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Both must hold: at least this share of all integrations … */
      minRatio: z.number().min(0).max(1).default(0.1),
      /** … and at least this many integrations failing at once. */
      minFailing: z.number().int().min(1).default(5),
      failingForMs: durationMs.default(5 * 60_000),
      severity: severitySchema.default('critical'),
      /** Classes counted as failing; misconfigured integrations are the customers' to fix. */
      kinds: z.array(kindSchema).default(['retryable', 'permanent', 'fatal', 'nodeFault']),
      /** A fleet page needs a snapshot at most this old: a stalled scan must not page. */
      snapshotMaxAgeMs: durationMs.default(2 * 60_000),
    })
    .prefault({}),
  systemic: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** One fingerprint seen in at least this many distinct apps … */
      minApps: z.number().int().min(1).default(10),
      /** … within this sliding window pages as a systemic bug. */
      windowMs: durationMs.default(10 * 60_000),
      /** Backstop: resolve when the fingerprint has not been seen for this long. */
      quietMs: durationMs.default(10 * 60_000),
      /** Only bugs: a shared transient error (a provider outage) is the fleet rule's business. */
      kinds: z.array(kindSchema).default(['fatal']),
      severity: severitySchema.default('error'),
    })
    .prefault({}),
  suppression: z
    .strictObject({
      /** Hold back an integration's own page while the fleet condition covers it. */
      duringFleet: z.boolean().default(true),
      /** Hold back an integration's own page while a systemic page covers its fingerprint. */
      duringSystemic: z.boolean().default(true),
    })
    .prefault({}),
  reconcile: z
    .strictObject({
      /**
       * Treat an episode as recovered when the state table stops listing the integration and
       * no failure was reported for `graceMs` — covers a recovery reported on another node.
       */
      enabled: z.boolean().default(true),
      graceMs: durationMs.default(2 * 60_000),
    })
    .prefault({}),
  misconfiguration: z
    .strictObject({
      /** Notify the customer once per integration per failure episode. */
      notify: z.boolean().default(true),
    })
    .prefault({}),
  /** At most this many integration ids listed in a fleet or systemic page's details. */
  maxListedIntegrations: z.number().int().min(0).max(1_000).default(20),
});

export type GuardianPolicyConfig = z.infer<typeof guardianPolicyConfigSchema>;
export type GuardianPolicyConfigInput = z.input<typeof guardianPolicyConfigSchema>;

/** Validates a raw policy config (e.g. a JSON file's contents) or throws ConfigError naming each bad key. */
export function parseGuardianPolicyConfig(raw: unknown = {}, what = 'guardian policy config'): GuardianPolicyConfig {
  const result = guardianPolicyConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(ErrorCode.configInvalid, `invalid ${what}`, zodIssues(result.error));
  return result.data;
}
