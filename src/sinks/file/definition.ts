// The file sink as the registry holds it (src/sinks/registry.ts): its pure validation, and
// a build that loads the service only when an integration of this type starts.
import type { SinkDefinition } from '../types.js';
import { validateFileConfig, type FileConfig } from './config.js';

export const fileSink: SinkDefinition<FileConfig> = {
  type: 'file',
  validate: validateFileConfig,
  build: async (config, ctx) => (await import('./service.js')).createFileSink(config, ctx),
};
