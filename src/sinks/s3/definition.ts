// The s3 sink as the registry holds it (src/sinks/registry.ts): its pure validation, and
// a build that loads the service only when an integration of this type starts.
import type { SinkDefinition } from '../types.js';
import { validateS3Config, type S3Config } from './config.js';

export const s3Sink: SinkDefinition<S3Config> = {
  type: 's3',
  validate: validateS3Config,
  build: async (config, ctx) => (await import('./service.js')).createS3Sink(config, ctx),
};
