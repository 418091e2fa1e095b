// The kinesis sink: Connect events into a Kinesis data stream, one record per event,
// keyed by device channel. See docs/sinks/kinesis.md for the configuration reference.
// Its registry entry (validation, and a build that loads the service) is in definition.ts.
export { kinesisSink } from './definition.js';

export { kinesisConfigSchema, validateKinesisConfig, type KinesisConfig } from './config.js';
export { createKinesisSink, type KinesisSinkOptions } from './service.js';
export { kinesisEntry, kinesisLimits, partitionKeyFor, planKinesisRequests } from './request-builder.js';
