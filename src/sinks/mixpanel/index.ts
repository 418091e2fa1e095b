// The mixpanel sink: Connect events into a Mixpanel project through the Import API.
// See docs/sinks/mixpanel.md for the configuration, the mapping and the error handling.
// Its registry entry (validation, and a build that loads the service) is in definition.ts.
export { mixpanelSink } from './definition.js';

export { mixpanelConfigSchema, validateMixpanelConfig, type MixpanelConfig } from './config.js';
export { createMixpanelSink, type MixpanelSinkOptions } from './service.js';
export { toMixpanelEvent, buildMixpanelBody, interpretMixpanelAnswer } from './request-builder.js';
