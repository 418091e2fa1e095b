// The mixpanel sink's definition: Connect events into a Mixpanel project through the Import API.
// See docs/sinks/mixpanel.md for the configuration, the mapping and the error handling.
import type { SinkDefinition } from '../types.js';
import { validateMixpanelConfig, type MixpanelConfig } from './config.js';
import { createMixpanelSink } from './service.js';

export const mixpanelSink: SinkDefinition<MixpanelConfig> = {
  type: 'mixpanel',
  validate: validateMixpanelConfig,
  build: (config, ctx) => createMixpanelSink(config, ctx),
};

export { mixpanelConfigSchema, validateMixpanelConfig, type MixpanelConfig } from './config.js';
export { createMixpanelSink, type MixpanelSinkOptions } from './service.js';
export { toMixpanelEvent, buildMixpanelBody, interpretMixpanelAnswer } from './request-builder.js';
