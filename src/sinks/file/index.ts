// The file sink: NDJSON files per integration under the node's data directory,
// rotated by size and age, fsynced before write() resolves. For local use and debugging.
// Its registry entry (validation, and a build that loads the service) is in definition.ts.
export { fileSink } from './definition.js';

export { fileConfigSchema, validateFileConfig, type FileConfig } from './config.js';
export { createFileSink, type FileSinkOptions } from './service.js';
