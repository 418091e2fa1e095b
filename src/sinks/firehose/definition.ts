// The firehose sink as the registry holds it (src/sinks/registry.ts): its pure validation, and
// a build that loads the service only when an integration of this type starts.
import type { SinkDefinition } from '../types.js';
import { validateFirehoseConfig, type FirehoseConfig } from './config.js';

export const firehoseSink: SinkDefinition<FirehoseConfig> = {
  type: 'firehose',
  validate: validateFirehoseConfig,
  build: async (config, ctx) => (await import('./service.js')).createFirehoseSink(config, ctx),
};
