// The s3 sink: gzip NDJSON or Parquet objects in a customer's bucket, keyed by app,
// integration, event hour and Kafka offsets. See docs/sinks/s3.md for the configuration reference.
// Its registry entry (validation, and a build that loads the service) is in definition.ts.
export { s3Sink } from './definition.js';

export { s3ConfigSchema, validateS3Config, type S3Config } from './config.js';
export { createS3Sink, type S3SinkOptions } from './service.js';
export { buildObject, keySegment, objectKey, planObjects, timePartition, type S3Format } from './request-builder.js';
export { encodeParquet, parquetColumns, parquetRow, type ParquetRow } from './parquet-encoder.js';
