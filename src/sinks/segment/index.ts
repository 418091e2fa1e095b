// The segment sink: Connect events into a Segment HTTP API source as `track` calls.
// See docs/sinks/segment.md for the configuration, the mapping and the error handling.
// Its registry entry (validation, and a build that loads the service) is in definition.ts.
export { segmentSink } from './definition.js';

export { segmentConfigSchema, validateSegmentConfig, type SegmentConfig } from './config.js';
export { createSegmentSink, type SegmentSinkOptions } from './service.js';
export { toSegmentTrack, buildSegmentBody } from './request-builder.js';
