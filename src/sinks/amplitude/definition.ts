// The amplitude sink as the registry holds it (src/sinks/registry.ts): its pure validation, and
// a build that loads the service only when an integration of this type starts.
import type { SinkDefinition } from '../types.js';
import { validateAmplitudeConfig, type AmplitudeConfig } from './config.js';

export const amplitudeSink: SinkDefinition<AmplitudeConfig> = {
  type: 'amplitude',
  validate: validateAmplitudeConfig,
  build: async (config, ctx) => (await import('./service.js')).createAmplitudeSink(config, ctx),
};
