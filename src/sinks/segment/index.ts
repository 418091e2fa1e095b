// The segment sink's definition: Connect events into a Segment HTTP API source as `track` calls.
// See docs/sinks/segment.md for the configuration, the mapping and the error handling.
import type { SinkDefinition } from '../types.js';
import { validateSegmentConfig, type SegmentConfig } from './config.js';
import { createSegmentSink } from './service.js';

export const segmentSink: SinkDefinition<SegmentConfig> = {
  type: 'segment',
  validate: validateSegmentConfig,
  build: (config, ctx) => createSegmentSink(config, ctx),
};

export { segmentConfigSchema, validateSegmentConfig, type SegmentConfig } from './config.js';
export { createSegmentSink, type SegmentSinkOptions } from './service.js';
export { toSegmentTrack, buildSegmentBody } from './request-builder.js';
