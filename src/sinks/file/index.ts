// The file sink's definition: NDJSON files per integration under the node's data directory,
// rotated by size and age, fsynced before write() resolves. For local use and debugging.
export { fileSink } from './definition.js';

export { fileConfigSchema, validateFileConfig, type FileConfig } from './config.js';
export { createFileSink, type FileSinkOptions } from './service.js';
