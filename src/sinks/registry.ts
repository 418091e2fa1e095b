// Every sink type Tributary knows, and the one entry point the spec schema uses to validate a
// spec's `sink` object: its `type` picks the definition, whose pure `validate` does the rest.
// Definitions hold validation only; each `build` imports its sink's service on first use, so a
// node whose integrations all deliver to webhooks never loads the S3, Firehose or Kinesis SDKs
// (BENCHMARKS.md, scenario 4: what a node's baseline memory is made of).
import { ConfigError, ErrorCode } from '../errors.js';
import { amplitudeSink } from './amplitude/definition.js';
import { fileSink } from './file/definition.js';
import { firehoseSink } from './firehose/definition.js';
import { kinesisSink } from './kinesis/definition.js';
import { mixpanelSink } from './mixpanel/definition.js';
import { s3Sink } from './s3/definition.js';
import { segmentSink } from './segment/definition.js';
import type { Sink, SinkContext, SinkDefinition, ValidateContext } from './types.js';
import { webhookSink } from './webhook/definition.js';

export const sinkDefinitions = {
  webhook: webhookSink,
  file: fileSink,
  s3: s3Sink,
  firehose: firehoseSink,
  kinesis: kinesisSink,
  amplitude: amplitudeSink,
  mixpanel: mixpanelSink,
  segment: segmentSink,
} as const satisfies Readonly<Record<string, SinkDefinition<{ type: string }>>>;

export type SinkType = keyof typeof sinkDefinitions;
export const sinkTypes = Object.keys(sinkDefinitions) as SinkType[];

/** A validated sink config: the union of every definition's output, tagged by `type`. */
export type SinkConfig = { [K in SinkType]: ReturnType<(typeof sinkDefinitions)[K]['validate']> }[SinkType];

const isSinkType = (t: unknown): t is SinkType => typeof t === 'string' && Object.hasOwn(sinkDefinitions, t);

/**
 * Validates a spec's raw `sink` object. Pure. Throws ConfigError whose issue paths start at
 * `sink` (`sink.type`, `sink.url`, …); `ctx.path` replaces that root when the sink sits
 * elsewhere in a document (e.g. `spec.sink`).
 */
export function validateSinkConfig(raw: unknown, ctx: ValidateContext & { path?: string }): SinkConfig {
  const root = ctx.path ?? 'sink';
  const reroot = (err: ConfigError): ConfigError =>
    root === 'sink'
      ? err
      : new ConfigError(ErrorCode.configInvalid, `invalid ${root}`, err.issues.map((i) => ({ path: root + i.path.slice('sink'.length), message: i.message })));
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw reroot(new ConfigError(ErrorCode.configInvalid, 'invalid sink', [{ path: 'sink', message: 'must be an object with a "type"' }]));
  }
  const type = (raw as { type?: unknown }).type;
  if (!isSinkType(type)) {
    const message = type === undefined ? `is required; one of: ${sinkTypes.join(', ')}` : `unknown sink type ${JSON.stringify(type).slice(0, 60)}; one of: ${sinkTypes.join(', ')}`;
    throw reroot(new ConfigError(ErrorCode.configInvalid, 'invalid sink', [{ path: 'sink.type', message }]));
  }
  try {
    return sinkDefinitions[type].validate(raw, { local: ctx.local }) as SinkConfig;
  } catch (err) {
    throw err instanceof ConfigError ? reroot(err) : err;
  }
}

/** Builds the Sink for a validated config (resolves its secrets; may throw misconfiguration). */
export function buildSink(config: SinkConfig, ctx: SinkContext): Promise<Sink> {
  const definition = sinkDefinitions[config.type] as SinkDefinition<SinkConfig>;
  return definition.build(config, ctx);
}
