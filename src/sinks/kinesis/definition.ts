// The kinesis sink as the registry holds it (src/sinks/registry.ts): its pure validation, and
// a build that loads the service only when an integration of this type starts.
import type { SinkDefinition } from '../types.js';
import { validateKinesisConfig, type KinesisConfig } from './config.js';

export const kinesisSink: SinkDefinition<KinesisConfig> = {
  type: 'kinesis',
  validate: validateKinesisConfig,
  build: async (config, ctx) => (await import('./service.js')).createKinesisSink(config, ctx),
};
