// Feature flags: a closed catalogue of switches for new or risky behaviour, released dark and
// turned on fleet-wide, per app or per integration — in the node config, on the flags topic
// (changed without a deploy) or in a spec. Resolution and the flags topic's records are pure here
// (docs/flags.md); src/control/flags-watcher.ts reads the topic.
import { z } from 'zod';
import { ConfigError, ErrorCode } from '../errors.js';

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
  'sink.stableChunks': {
    default: false,
    scope: 'sink',
    description: 'before each delivery the sink records the chunk (partition, first and last offset) in the state row, so after a crash or a takeover the next owner re-sends exactly that chunk first: the same events, the same x-tributary-batch-id, for receivers that drop a batch id they have already accepted',
  },
  'source.packRecords': {
    default: false,
    scope: 'source',
    description: 'the source writes each batch as packed records, one per partition holding that partition\'s events in order, instead of one record per event (per-device order unchanged; a fraction of the Kafka work per event). Sinks read both kinds; turn it on once every node runs a version that reads packed records',
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

/** Flag values set on the flags topic: fleet-wide, and per Airship app key. */
export interface FlagOverrides {
  readonly fleet: FlagValues;
  readonly byApp: ReadonlyMap<string, FlagValues>;
}

export const noFlagOverrides: FlagOverrides = { fleet: {}, byApp: new Map() };

/**
 * Precedence, lowest first: catalogue default, node `flags`, the flags topic's fleet value, node
 * `flagsByApp[appKey]`, the flags topic's value for the app, the spec's `flags`. Pure, total, and
 * ignores names outside the catalogue (schemas reject them).
 */
export function resolveFlags(
  node: NodeFlags,
  appKey: string,
  spec: Readonly<Record<string, boolean>> | undefined,
  topic: FlagOverrides = noFlagOverrides,
): ResolvedFlags {
  const out = Object.fromEntries(flagNames.map((n) => [n, flagCatalogue[n].default])) as Record<FlagName, boolean>;
  for (const layer of [node.flags, topic.fleet, node.flagsByApp?.[appKey], topic.byApp.get(appKey), spec]) {
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

// ---- The flags topic: one record per (scope, flag), so setting one flag never races another ----
// key `fleet/<flag>` or `app/<appKey>/<flag>`; value `{"value": true|false}`; a tombstone clears it.

const appKeyPattern = /^[A-Za-z0-9_-]{1,64}$/;
const flagRecordValueSchema = z.strictObject({ value: z.boolean() });

export interface FlagSetting {
  name: FlagName;
  /** Absent: fleet-wide. */
  appKey?: string | undefined;
}

/** The record key of one flag setting (validated: a known flag, a well-formed app key). */
export function flagRecordKey(setting: { name: string; appKey?: string | undefined }): string {
  const problems: { path: string; message: string }[] = [];
  if (!known.has(setting.name)) problems.push({ path: 'flag', message: `unknown flag "${setting.name}"; known flags: ${flagNames.join(', ')}` });
  if (setting.appKey !== undefined && !appKeyPattern.test(setting.appKey)) problems.push({ path: 'app', message: 'must be an Airship app key (1-64 of A-Z, a-z, 0-9, "_", "-")' });
  if (problems.length > 0) throw new ConfigError(ErrorCode.configInvalid, 'invalid flag setting', problems);
  return setting.appKey === undefined ? `fleet/${setting.name}` : `app/${setting.appKey}/${setting.name}`;
}

/** The setting a flags-topic record key names. Throws ConfigError. */
export function parseFlagKey(key: string): FlagSetting {
  const m = /^(?:fleet|app\/([^/]*))\/(.*)$/.exec(key);
  if (!m) throw new ConfigError(ErrorCode.configInvalid, `flag record "${key.slice(0, 200)}"`, [{ path: 'key', message: 'must be fleet/<flag> or app/<appKey>/<flag>' }]);
  const setting = { name: m[2]!, appKey: m[1] };
  flagRecordKey(setting);
  return { name: setting.name as FlagName, appKey: setting.appKey };
}

/** One flags-topic record, parsed: its setting and value (undefined for a tombstone). Throws ConfigError. */
export function parseFlagRecord(key: string, value: Buffer | string | null): FlagSetting & { value: boolean | undefined } {
  const setting = parseFlagKey(key);
  if (value === null) return { ...setting, value: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch (err) {
    throw new ConfigError(ErrorCode.configInvalid, `flag record ${key}`, [{ path: 'value', message: `not JSON: ${(err as Error).message}` }]);
  }
  const r = flagRecordValueSchema.safeParse(parsed);
  if (!r.success) throw new ConfigError(ErrorCode.configInvalid, `flag record ${key}`, r.error.issues.map((i) => ({ path: ['value', ...i.path].join('.'), message: i.message })));
  return { ...setting, value: r.data.value };
}

/** The value a flags-topic record carries for `value` (null clears the setting). */
export function flagRecordValue(value: boolean | null): string | null {
  return value === null ? null : JSON.stringify({ value });
}

/**
 * The overrides of a read of the flags topic, its records in offset order. The newest record of
 * a key decides it; a tombstone clears it. A record the nodes refuse never turns a flag on or off:
 * the key keeps the last good value before it in the log — the same on every node that reads the
 * same log — or, once compaction removed that, the value `previous` had (a running node's memory).
 * `onBad` hears of each key whose newest record is refused.
 */
export function overridesFromRecords(
  records: Iterable<{ key: string; value: Buffer | string | null }>,
  onBad: (key: string, err: Error) => void,
  previous: FlagOverrides = noFlagOverrides,
): FlagOverrides {
  const values = new Map<string, FlagSetting & { value: boolean }>();
  const refused = new Map<string, Error>();
  for (const r of records) {
    let setting: FlagSetting;
    try {
      setting = parseFlagKey(r.key);
    } catch (err) {
      refused.set(r.key, err as Error);
      continue;
    }
    try {
      const { value } = parseFlagRecord(r.key, r.value);
      refused.delete(r.key);
      if (value === undefined) values.delete(r.key);
      else values.set(r.key, { ...setting, value });
    } catch (err) {
      refused.set(r.key, err as Error);
      if (values.has(r.key)) continue;
      const kept = setting.appKey === undefined ? previous.fleet[setting.name] : previous.byApp.get(setting.appKey)?.[setting.name];
      if (kept !== undefined) values.set(r.key, { ...setting, value: kept });
    }
  }
  for (const [key, err] of refused) onBad(key, err);
  const fleet: Record<string, boolean> = {};
  const byApp = new Map<string, Record<string, boolean>>();
  for (const v of values.values()) {
    if (v.appKey === undefined) fleet[v.name] = v.value;
    else byApp.set(v.appKey, { ...byApp.get(v.appKey), [v.name]: v.value });
  }
  return { fleet, byApp };
}

/** The overrides of a whole read of the flags topic (`readControlTopic` with `keepAll`). */
export function overridesFromSnapshot(snapshot: { all: readonly { key: string | null; value: Buffer | null }[] }, onBad: (key: string, err: Error) => void, previous?: FlagOverrides): FlagOverrides {
  return overridesFromRecords(snapshot.all.map((r) => ({ key: r.key ?? '', value: r.value })), onBad, previous);
}

/** The settings of a set of overrides, for listing (fleet first, then apps by key). */
export function overrideSettings(o: FlagOverrides): { scope: string; name: FlagName; value: boolean }[] {
  const out: { scope: string; name: FlagName; value: boolean }[] = [];
  for (const [name, value] of Object.entries(o.fleet)) out.push({ scope: 'fleet', name: name as FlagName, value: value! });
  for (const appKey of [...o.byApp.keys()].sort()) {
    for (const [name, value] of Object.entries(o.byApp.get(appKey)!)) out.push({ scope: `app:${appKey}`, name: name as FlagName, value: value! });
  }
  return out;
}
