// One Airship app on this node: knows its size tier and owns the app's integration actors.
import { dispatch, query, spawn, stop as stopActor, type Ref } from 'nact';
import type { IntegrationSpec } from '../control/spec.js';
import { errorMessage } from '../errors.js';
import { spawnIntegration, type IntegrationMsg, type IntegrationSnapshot, type ReplayFrom } from './integration-actor.js';
import type { NodeContext } from './node-context.js';

export type AppMsg =
  | { type: 'apply'; spec: IntegrationSpec; position?: string | undefined }
  | { type: 'remove'; integrationId: string; ack: Ref<boolean> }
  | { type: 'replay'; integrationId: string; from: ReplayFrom; ack: Ref<{ ok: boolean; error?: string; partitions?: number }> }
  | { type: 'status'; ack: Ref<IntegrationSnapshot[]> }
  | { type: 'stopAll'; ack: Ref<boolean> }
  | { type: 'flagsChanged' };

const ACK_MS = 150_000;

export function spawnApp(parent: Ref<unknown>, node: NodeContext, appKey: string): Ref<AppMsg> {
  const integrations = new Map<string, Ref<IntegrationMsg>>();
  const stopOne = async (id: string) => {
    const ref = integrations.get(id);
    if (!ref) return;
    integrations.delete(id);
    await query(ref, (ack: Ref<boolean>) => ({ type: 'stop', ack }), ACK_MS).catch((err) =>
      node.logger.warn({ integrationId: id, err: errorMessage(err) }, 'integration did not drain in time'),
    );
    stopActor(ref);
  };
  return spawn(
    parent as Ref<never>,
    async (_s: null, msg: AppMsg, ctx): Promise<null> => {
      switch (msg.type) {
        case 'apply': {
          const existing = integrations.get(msg.spec.id);
          if (existing) dispatch(existing, { type: 'update', spec: msg.spec, position: msg.position });
          else {
            const ref = spawnIntegration(ctx.self, node, msg.spec.id);
            integrations.set(msg.spec.id, ref);
            dispatch(ref, { type: 'start', spec: msg.spec, position: msg.position });
          }
          return null;
        }
        case 'remove':
          await stopOne(msg.integrationId);
          dispatch(msg.ack, true);
          return null;
        case 'replay': {
          const ref = integrations.get(msg.integrationId);
          if (!ref) dispatch(msg.ack, { ok: false, error: `integration ${msg.integrationId} does not run on this node` });
          else dispatch(ref, { type: 'replay', from: msg.from, ack: msg.ack });
          return null;
        }
        case 'status': {
          const all = await Promise.all(
            [...integrations.values()].map((ref) => query(ref, (ack: Ref<IntegrationSnapshot>) => ({ type: 'status', ack }), 10_000).catch(() => undefined)),
          );
          dispatch(msg.ack, all.filter((s): s is IntegrationSnapshot => s !== undefined));
          return null;
        }
        case 'flagsChanged':
          for (const ref of integrations.values()) dispatch(ref, { type: 'flagsChanged' });
          return null;
        case 'stopAll':
          await Promise.all([...integrations.keys()].map(stopOne));
          dispatch(msg.ack, true);
          return null;
      }
    },
    `app-${appKey}`,
    { initialState: null, onCrash: (_m, err, ctx) => (node.logger.error({ appKey, err: errorMessage(err) }, 'app actor step failed'), ctx.resume) },
  );
}
