// The Connect emulator's public surface: start one, steer it, read what it served.
// Other modules and tests import from here, never from the emulator's inner files.
export { startConnectEmulator, type ConnectEmulator, type EmulatedAppInfo } from './server.js';
export type { AppStats } from './admin-api.js';
export type { ServedEvent } from './served-record.js';
export {
  appSchema,
  emulatorOptionsSchema,
  faultSchema,
  parseEmulatorOptions,
  parseFault,
  readAppsFile,
  type AppInput,
  type AppOptions,
  type EmulatorInput,
  type EmulatorOptions,
  type Fault,
  type FaultInput,
} from './options.js';
export { createEventGenerator, sizeTiers, type EventGenerator, type SizeTier } from './event-generator.js';
export { connectErrorCode } from './error-response.js';
