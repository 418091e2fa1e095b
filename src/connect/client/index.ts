// The Connect streaming client's public surface, for the source actor and tests.
// Everything else in this folder is an implementation detail.
export { ConnectClient, type ConnectClientDeps } from './connect-client.js';
export { LineParseThreads, type LineParseThreadsOptions, type LineParseStats, type OffThreadParser } from './line-parse-threads.js';
export { connectClientOptionsSchema, compileConnectClientOptions, type ConnectClientOptions, type ConnectClientOptionsInput } from './options.js';
export type { ConnectClientCounters } from './counters.js';
export { ReconnectReason } from './stream-item.js';
export type { StreamItem, EventItem, PoisonItem, OffsetUpdateItem, ConnectedItem, ReconnectingItem, ResumePoint } from './stream-item.js';
export { createHttpTransport, connectAccept, type ConnectTransport, type TransportRequest, type TransportResponse } from './http-transport.js';
export { LineSplitter, splitLines, type SplitItem } from './line-splitter.js';
export { backoffCeiling, backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js';
export { connectHosts } from './host-policy.js';
