// The top of the hierarchy: routes specs to app actors, receives every failure report of the
// node's integrations, and hands them to the alerting policy (which decides whether to page).
import { dispatch, query, spawn, start, stop as stopActor, type Ref } from 'nact';
import type { IntegrationSpec } from '../control/spec.js';
import { errorMessage } from '../errors.js';
import type { FailureReport } from '../supervision/guardian-types.js';
import { spawnApp, type AppMsg } from './app-actor.js';
import type { IntegrationSnapshot, ReplayFrom } from './integration-actor.js';
import type { NodeContext } from './node-context.js';

export type GuardianMsg =
  | { type: 'apply'; spec: IntegrationSpec; position?: string | undefined }
  | { type: 'remove'; integrationId: string; ack?: Ref<boolean> }
  | { type: 'removeMany'; integrationIds: readonly string[]; ack: Ref<boolean> }
  | { type: 'replay'; integrationId: string; from: ReplayFrom; ack: Ref<{ ok: boolean; error?: string; partitions?: number }> }
  | { type: 'status'; ack: Ref<IntegrationSnapshot[]> }
  | { type: 'stopAll'; ack: Ref<boolean> }
  | { type: 'failure'; report: FailureReport }
  | { type: 'flagsChanged' };

const ACK_MS = 180_000;

export interface Guardian {
  ref: Ref<GuardianMsg>;
  /** Starts or updates an integration; `position` (the control record, `partition:offset`) goes to its state row once applied. */
  apply(spec: IntegrationSpec, position?: string): void;
  remove(integrationId: string): Promise<void>;
  /** Stops several integrations at once (drains run in parallel across apps). */
  removeMany(integrationIds: readonly string[]): Promise<void>;
  replay(integrationId: string, from: ReplayFrom): Promise<{ ok: boolean; error?: string; partitions?: number }>;
  status(): Promise<IntegrationSnapshot[]>;
  /** The flags topic changed: every integration re-resolves its flags (only changed ones restart anything). */
  flagsChanged(): void;
  /** Drains every integration (sources first within each) and stops the actor system. */
  shutdown(): Promise<void>;
}

/** What the node needs of its integrations' guardian: the in-process one, or the integration threads' (node/integration-threads.ts). */
export type NodeGuardian = Omit<Guardian, 'ref'>;

export function startGuardian(node: Omit<NodeContext, 'reportFailure'>, onFailure: (r: FailureReport) => void): Guardian {
  const system = start();
  const apps = new Map<string, Ref<AppMsg>>();
  const appOf = new Map<string, string>();
  let self: Ref<GuardianMsg> | undefined;
  const ctxNode: NodeContext = { ...node, reportFailure: (report) => self && dispatch(self, { type: 'failure', report }) };

  const ref = spawn(
    system,
    async (_s: null, msg: GuardianMsg, ctx): Promise<null> => {
      switch (msg.type) {
        case 'apply': {
          const key = msg.spec.app.key;
          const previous = appOf.get(msg.spec.id);
          if (previous && previous !== key) {
            // The integration moved to another app: stop it there first.
            await query(apps.get(previous)!, (ack: Ref<boolean>) => ({ type: 'remove', integrationId: msg.spec.id, ack }), ACK_MS);
          }
          let app = apps.get(key);
          if (!app) {
            app = spawnApp(ctx.self, ctxNode, key);
            apps.set(key, app);
          }
          appOf.set(msg.spec.id, key);
          dispatch(app, { type: 'apply', spec: msg.spec, position: msg.position });
          return null;
        }
        case 'remove': {
          const key = appOf.get(msg.integrationId);
          if (key) {
            await query(apps.get(key)!, (ack: Ref<boolean>) => ({ type: 'remove', integrationId: msg.integrationId, ack }), ACK_MS);
            appOf.delete(msg.integrationId);
          }
          if (msg.ack) dispatch(msg.ack, true);
          return null;
        }
        case 'removeMany': {
          await Promise.all(
            msg.integrationIds.map(async (id) => {
              const key = appOf.get(id);
              if (!key) return;
              await query(apps.get(key)!, (ack: Ref<boolean>) => ({ type: 'remove', integrationId: id, ack }), ACK_MS).catch((err) =>
                node.logger.warn({ integrationId: id, err: errorMessage(err) }, 'integration did not stop in time'),
              );
              appOf.delete(id);
            }),
          );
          dispatch(msg.ack, true);
          return null;
        }
        case 'replay': {
          const key = appOf.get(msg.integrationId);
          if (!key) dispatch(msg.ack, { ok: false, error: `integration ${msg.integrationId} does not run on this node` });
          else dispatch(apps.get(key)!, { type: 'replay', integrationId: msg.integrationId, from: msg.from, ack: msg.ack });
          return null;
        }
        case 'status': {
          const all = await Promise.all(
            [...apps.values()].map((a) => query(a, (ack: Ref<IntegrationSnapshot[]>) => ({ type: 'status', ack }), 15_000).catch(() => [])),
          );
          dispatch(msg.ack, all.flat());
          return null;
        }
        case 'stopAll':
          await Promise.all([...apps.values()].map((a) => query(a, (ack: Ref<boolean>) => ({ type: 'stopAll', ack }), ACK_MS).catch(() => false)));
          dispatch(msg.ack, true);
          return null;
        case 'failure':
          onFailure(msg.report);
          return null;
        case 'flagsChanged':
          for (const app of apps.values()) dispatch(app, { type: 'flagsChanged' });
          return null;
      }
    },
    'guardian',
    { initialState: null, onCrash: (_m, err, ctx) => (node.logger.error({ err: errorMessage(err) }, 'guardian step failed'), ctx.resume) },
  );
  self = ref;

  return {
    ref,
    apply: (spec, position) => dispatch(ref, { type: 'apply', spec, position }),
    remove: async (integrationId) => {
      await query(ref, (ack: Ref<boolean>) => ({ type: 'remove', integrationId, ack }), ACK_MS);
    },
    removeMany: async (integrationIds) => {
      if (integrationIds.length === 0) return;
      await query(ref, (ack: Ref<boolean>) => ({ type: 'removeMany', integrationIds, ack }), ACK_MS);
    },
    replay: (integrationId, from) => query(ref, (ack: Ref<{ ok: boolean; error?: string; partitions?: number }>) => ({ type: 'replay', integrationId, from, ack }), ACK_MS),
    status: () => query(ref, (ack: Ref<IntegrationSnapshot[]>) => ({ type: 'status', ack }), 20_000),
    flagsChanged: () => dispatch(ref, { type: 'flagsChanged' }),
    shutdown: async () => {
      await query(ref, (ack: Ref<boolean>) => ({ type: 'stopAll', ack }), ACK_MS).catch(() => false);
      stopActor(system);
    },
  };
}
