// The segment sink as the registry holds it (src/sinks/registry.ts): its pure validation, and
// a build that loads the service only when an integration of this type starts.
import type { SinkDefinition } from '../types.js';
import { validateSegmentConfig, type SegmentConfig } from './config.js';

export const segmentSink: SinkDefinition<SegmentConfig> = {
  type: 'segment',
  validate: validateSegmentConfig,
  build: async (config, ctx) => (await import('./service.js')).createSegmentSink(config, ctx),
};
