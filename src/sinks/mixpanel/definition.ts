// The mixpanel sink as the registry holds it (src/sinks/registry.ts): its pure validation, and
// a build that loads the service only when an integration of this type starts.
import type { SinkDefinition } from '../types.js';
import { validateMixpanelConfig, type MixpanelConfig } from './config.js';

export const mixpanelSink: SinkDefinition<MixpanelConfig> = {
  type: 'mixpanel',
  validate: validateMixpanelConfig,
  build: async (config, ctx) => (await import('./service.js')).createMixpanelSink(config, ctx),
};
