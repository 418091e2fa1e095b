// The file sink's definition: NDJSON files per integration under the node's data directory,
// rotated by size and age, fsynced before write() resolves. For local use and debugging.
import type { SinkDefinition } from '../types.js';
import { validateFileConfig, type FileConfig } from './config.js';
import { createFileSink } from './service.js';

export const fileSink: SinkDefinition<FileConfig> = {
  type: 'file',
  validate: validateFileConfig,
  build: (config, ctx) => createFileSink(config, ctx),
};

export { fileConfigSchema, validateFileConfig, type FileConfig } from './config.js';
export { createFileSink, type FileSinkOptions } from './service.js';
