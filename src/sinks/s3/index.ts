// The s3 sink's definition: gzip NDJSON or Parquet objects in a customer's bucket, keyed by app,
// integration, event hour and Kafka offsets. See docs/sinks/s3.md for the configuration reference.
import type { SinkDefinition } from '../types.js';
import { validateS3Config, type S3Config } from './config.js';
import { createS3Sink } from './service.js';

export const s3Sink: SinkDefinition<S3Config> = {
  type: 's3',
  validate: validateS3Config,
  build: (config, ctx) => createS3Sink(config, ctx),
};

export { s3ConfigSchema, validateS3Config, type S3Config } from './config.js';
export { createS3Sink, type S3SinkOptions } from './service.js';
export { buildObject, keySegment, objectKey, planObjects, timePartition, type S3Format } from './request-builder.js';
export { encodeParquet, parquetColumns, parquetRow, type ParquetRow } from './parquet-encoder.js';
