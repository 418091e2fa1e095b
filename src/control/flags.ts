// Feature flags: a closed catalogue of switches for new or risky behaviour, released dark and
// turned on fleet-wide, per app or per integration. Resolution is pure (docs/flags.md).
import { z } from 'zod';

/** What a flag changes, and so what an integration restarts when it flips. */
export const flagScopes = ['source', 'sink', 'alerting'] as const;
export type FlagScope = (typeof flagScopes)[number];

interface FlagDef {
  readonly default: boolean;
  readonly scope: FlagScope;
  readonly description: string;
}

/** The catalogue: every flag Tributary reads. A name outside it is a config or spec error. */
export const flagCatalogue = {
  'sink.webhook.gzipDefault': {
    default: false,
    scope: 'sink',
    description: 'webhook sinks gzip request bodies (Content-Encoding: gzip) unless their spec sets `sink.gzip`',
  },
  'sink.parkWhenIdle': {
    default: false,
    scope: 'sink',
    description: 'a sink with everything delivered and idle for kafka.sinkParkIdleMs leaves its consumer group and waits on the node\'s offset watcher until its topic grows (cuts the idle cost of quiet integrations)',
  },
  'alerting.lagGrowth': {
    default: false,
    scope: 'alerting',
    description: 'report a failure to the guardian when the backlog grows steadily (events arrive faster than the sink delivers) past the tier threshold',
  },
} as const satisfies Record<string, FlagDef>;

export type FlagName = keyof typeof flagCatalogue;
export const flagNames = Object.keys(flagCatalogue) as FlagName[];
export type ResolvedFlags = Readonly<Record<FlagName, boolean>>;

const known = new Set<string>(flagNames);

/**
 * `{ name: bool }` with names from the catalogue. Unknown names are rejected with their path
 * (`flags.sink.webhook.gzipDefault`), so a typo never silently leaves a flag off.
 */
export const flagValuesSchema = z.record(z.string(), z.boolean()).superRefine((values, ctx) => {
  for (const name of Object.keys(values)) {
    if (!known.has(name)) ctx.addIssue({ code: 'custom', path: [name], message: `unknown flag; known flags: ${flagNames.join(', ')}` });
  }
});
export type FlagValues = Partial<Record<FlagName, boolean>>;

/** The node config's flags: fleet-wide values and per-app overrides. */
export interface NodeFlags {
  flags?: Readonly<Record<string, boolean>> | undefined;
  flagsByApp?: Readonly<Record<string, Readonly<Record<string, boolean>>>> | undefined;
}

/**
 * Precedence, lowest first: catalogue default, node `flags`, node `flagsByApp[appKey]`, the
 * spec's `flags`. Pure, total, and ignores names outside the catalogue (schemas reject them).
 */
export function resolveFlags(node: NodeFlags, appKey: string, spec: Readonly<Record<string, boolean>> | undefined): ResolvedFlags {
  const out = Object.fromEntries(flagNames.map((n) => [n, flagCatalogue[n].default])) as Record<FlagName, boolean>;
  for (const layer of [node.flags, node.flagsByApp?.[appKey], spec]) {
    for (const [name, value] of Object.entries(layer ?? {})) if (known.has(name)) out[name as FlagName] = value;
  }
  return out;
}

/** The scopes whose flags differ between two resolutions: what a flag-only update restarts. */
export function changedFlagScopes(a: ResolvedFlags, b: ResolvedFlags): Set<FlagScope> {
  const scopes = new Set<FlagScope>();
  for (const n of flagNames) if (a[n] !== b[n]) scopes.add(flagCatalogue[n].scope);
  return scopes;
}
