// The firehose sink's definition: Connect events as NDJSON records into an Amazon Data Firehose
// delivery stream. See docs/sinks/firehose.md for the configuration reference.
import type { SinkDefinition } from '../types.js';
import { validateFirehoseConfig, type FirehoseConfig } from './config.js';
import { createFirehoseSink } from './service.js';

export const firehoseSink: SinkDefinition<FirehoseConfig> = {
  type: 'firehose',
  validate: validateFirehoseConfig,
  build: (config, ctx) => createFirehoseSink(config, ctx),
};

export { firehoseConfigSchema, validateFirehoseConfig, type FirehoseConfig } from './config.js';
export { createFirehoseSink, type FirehoseSinkOptions } from './service.js';
export { firehoseLimits, firehoseRecordData, planFirehoseRequests } from './request-builder.js';
