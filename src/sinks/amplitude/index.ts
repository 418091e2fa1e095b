// The amplitude sink: Connect events into an Amplitude project through the HTTP V2
// API. See docs/sinks/amplitude.md for the configuration, the mapping and the error handling.
// Its registry entry (validation, and a build that loads the service) is in definition.ts.
export { amplitudeSink } from './definition.js';

export { amplitudeConfigSchema, validateAmplitudeConfig, type AmplitudeConfig } from './config.js';
export { createAmplitudeSink, type AmplitudeSinkOptions } from './service.js';
export { toAmplitudeEvent, buildAmplitudeBody, interpretAmplitudeAnswer } from './request-builder.js';
