// The amplitude sink's definition: Connect events into an Amplitude project through the HTTP V2
// API. See docs/sinks/amplitude.md for the configuration, the mapping and the error handling.
import type { SinkDefinition } from '../types.js';
import { validateAmplitudeConfig, type AmplitudeConfig } from './config.js';
import { createAmplitudeSink } from './service.js';

export const amplitudeSink: SinkDefinition<AmplitudeConfig> = {
  type: 'amplitude',
  validate: validateAmplitudeConfig,
  build: (config, ctx) => createAmplitudeSink(config, ctx),
};

export { amplitudeConfigSchema, validateAmplitudeConfig, type AmplitudeConfig } from './config.js';
export { createAmplitudeSink, type AmplitudeSinkOptions } from './service.js';
export { toAmplitudeEvent, buildAmplitudeBody, interpretAmplitudeAnswer } from './request-builder.js';
