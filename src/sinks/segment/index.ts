// The segment sink's definition: Connect events into a Segment HTTP API source as `track` calls.
// See docs/sinks/segment.md for the configuration, the mapping and the error handling.
export { segmentSink } from './definition.js';

export { segmentConfigSchema, validateSegmentConfig, type SegmentConfig } from './config.js';
export { createSegmentSink, type SegmentSinkOptions } from './service.js';
export { toSegmentTrack, buildSegmentBody } from './request-builder.js';
