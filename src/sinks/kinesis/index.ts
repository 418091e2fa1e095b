// The kinesis sink's definition: Connect events into a Kinesis data stream, one record per event,
// keyed by device channel. See docs/sinks/kinesis.md for the configuration reference.
import type { SinkDefinition } from '../types.js';
import { validateKinesisConfig, type KinesisConfig } from './config.js';
import { createKinesisSink } from './service.js';

export const kinesisSink: SinkDefinition<KinesisConfig> = {
  type: 'kinesis',
  validate: validateKinesisConfig,
  build: (config, ctx) => createKinesisSink(config, ctx),
};

export { kinesisConfigSchema, validateKinesisConfig, type KinesisConfig } from './config.js';
export { createKinesisSink, type KinesisSinkOptions } from './service.js';
export { kinesisEntry, kinesisLimits, partitionKeyFor, planKinesisRequests } from './request-builder.js';
