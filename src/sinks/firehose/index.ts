// The firehose sink: Connect events as NDJSON records into an Amazon Data Firehose
// delivery stream. See docs/sinks/firehose.md for the configuration reference.
// Its registry entry (validation, and a build that loads the service) is in definition.ts.
export { firehoseSink } from './definition.js';

export { firehoseConfigSchema, validateFirehoseConfig, type FirehoseConfig } from './config.js';
export { createFirehoseSink, type FirehoseSinkOptions } from './service.js';
export { firehoseLimits, firehoseRecordData, planFirehoseRequests } from './request-builder.js';
