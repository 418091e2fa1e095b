// What the node's main thread and an integration thread say to each other (integration-threads.ts
// and integration-thread.ts). Plain data only: it crosses by structured clone.
import type { IntegrationSnapshot, ReplayFrom } from '../actors/integration-actor.js';
import type { NodeConfig } from '../config/node-config.js';
import type { FlagOverrides } from '../control/flags.js';
import type { IntegrationSpec } from '../control/spec.js';
import type { FailureReport } from '../supervision/guardian-types.js';
import type { RestartPolicyConfig } from '../supervision/restart-policy.js';

/** The thread's `workerData`. */
export interface IntegrationThreadData {
  /** 0-based; in the thread's Kafka client id, its log lines and its metrics. */
  index: number;
  nodeId: string;
  config: NodeConfig;
  dataDir: string;
  restartPolicy: RestartPolicyConfig;
  probeIntervalMs: number;
  env: Record<string, string | undefined>;
  /** The flags topic's values when the thread starts; `flags` messages bring the changes. */
  flags: FlagOverrides;
}

export type ReplayAnswer = { ok: boolean; error?: string; partitions?: number };

/** Main thread → integration thread. Requests with an `id` are answered once, with that id. */
export type ToThread =
  | { op: 'apply'; spec: IntegrationSpec; position?: string | undefined }
  | { op: 'removeMany'; id: number; integrationIds: string[] }
  | { op: 'replay'; id: number; integrationId: string; from: ReplayFrom }
  | { op: 'status'; id: number }
  | { op: 'flags'; flags: FlagOverrides }
  /** Liveness: answered `true` at once, by the thread's event loop (not its guardian). */
  | { op: 'ping'; id: number }
  /** Drain every integration, close the clients, answer; the main thread then ends the thread. */
  | { op: 'shutdown'; id: number };

/** Integration thread → main thread. */
export type FromThread =
  /** Clients connected, guardian running: the thread takes integrations. */
  | { type: 'ready' }
  /** Start-up failed (Kafka unreachable...): the thread ends itself. */
  | { type: 'startFailed'; message: string }
  /** For the node's alerting (the guardian's inbox is on the main thread). */
  | { type: 'report'; report: FailureReport }
  | { type: 'answer'; id: number; value: IntegrationSnapshot[] | ReplayAnswer | boolean };
