// The one place where supervision decisions meet nact. A *worker* actor runs one long task
// (a source or sink loop); when the task fails, the failure is raised inside the actor so
// nact's onCrash fires, and onCrash applies the pure restart policy: restart after a delay,
// halt (tell the parent), or escalate (tell the parent). nact has no restart budgets, no
// backoff and silently drops dispatches to stopped actors, so those are handled here.
import { dispatch, spawn, type Ref } from 'nact';
import { classify, errorMessage, fingerprint } from '../errors.js';
import { decide, emptyHistory, type CrashHistory, type Decision, type RestartPolicyConfig } from './restart-policy.js';

/** A running task: `done` settles when it ends; `stop` ends it (drain). Restart = a new task. */
export interface TaskHandle {
  done: Promise<void>;
  stop(): Promise<void>;
}

export type WorkerMsg =
  | { type: 'start' }
  | { type: 'stop'; ack?: Ref<boolean> }
  | { type: 'taskFailed'; error: unknown; run: number }
  | { type: 'taskEnded'; run: number };

interface WorkerState {
  task: TaskHandle | undefined;
}

/** What a worker tells its parent. */
export type WorkerReport =
  | { type: 'workerFaulted'; worker: string; error: unknown; kind: string; fingerprint: string; decision: Decision }
  /** The task is still running but failing to make progress (e.g. Connect refusing, a stream cut): no restart. */
  | { type: 'workerDegraded'; worker: string; error: unknown; kind: string; fingerprint: string }
  | { type: 'workerHealthy'; worker: string };

export interface WorkerOptions {
  name: string;
  policy: RestartPolicyConfig;
  /**
   * Starts the task. `healthy` is called when it makes progress (ends a failure episode);
   * `degraded` when it meets trouble it retries by itself (opens an episode unless one is open).
   */
  start: (healthy: () => void, degraded: (error: unknown) => void) => Promise<TaskHandle>;
  /** Receives faults and recoveries (the parent's mailbox, via a callback so types stay simple). */
  report: (r: WorkerReport) => void;
  /** Extra fingerprint parts (e.g. sink type), so one bug across many integrations aggregates. */
  fingerprintParts?: readonly string[];
  /** The worker replaces one that faulted: its first progress is reported as a recovery. */
  initiallyFaulted?: boolean;
  now?: () => number;
}

export function spawnWorker(parent: Ref<unknown>, o: WorkerOptions): Ref<WorkerMsg> {
  // The crash history outlives restarts: it belongs to the supervisor, not the task.
  let history: CrashHistory = emptyHistory;
  // False while a failure episode is open (a crash or a degradation not yet followed by progress).
  let healthyReported = !o.initiallyFaulted;
  // Kept outside the actor state, which nact resets after a crash.
  let runs = 0;
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const now = o.now ?? Date.now;

  const ref = spawn(
    parent as Ref<never>,
    async (state: WorkerState, msg: WorkerMsg, ctx): Promise<WorkerState> => {
      switch (msg.type) {
        case 'start': {
          if (stopped || state.task) return state;
          runs += 1;
          const run = runs;
          const self = ctx.self;
          const healthy = () => {
            if (healthyReported) return;
            healthyReported = true;
            o.report({ type: 'workerHealthy', worker: o.name });
          };
          // One report per episode: a stream retrying ten times in a row is one failure, not ten.
          const degraded = (error: unknown) => {
            if (!healthyReported || stopped || run !== runs) return;
            healthyReported = false;
            o.report({ type: 'workerDegraded', worker: o.name, error, kind: classify(error), fingerprint: fingerprint(error, o.fingerprintParts) });
          };
          let task: TaskHandle;
          try {
            task = await o.start(healthy, degraded);
          } catch (error) {
            // Fails inside the actor, so onCrash decides.
            throw new WorkerFailure(error, run);
          }
          task.done.then(
            () => dispatch(self, { type: 'taskEnded', run }),
            (error: unknown) => dispatch(self, { type: 'taskFailed', error, run }),
          );
          return { task };
        }
        case 'taskEnded':
          return msg.run === runs ? { task: undefined } : state;
        case 'taskFailed':
          if (msg.run !== runs || stopped) return state;
          throw new WorkerFailure(msg.error, msg.run);
        case 'stop': {
          stopped = true;
          clearTimeout(restartTimer);
          await state.task?.stop().catch(() => undefined);
          await state.task?.done.catch(() => undefined);
          if (msg.ack) dispatch(msg.ack, true);
          return { task: undefined };
        }
      }
    },
    o.name,
    {
      initialState: { task: undefined },
      onCrash: (_msg, err, ctx) => {
        const error = err instanceof WorkerFailure ? err.error : err;
        const kind = classify(error);
        const result = decide(o.policy, history, { kind, message: errorMessage(error), at: now() });
        history = result.history;
        healthyReported = false;
        o.report({
          type: 'workerFaulted',
          worker: o.name,
          error,
          kind,
          fingerprint: fingerprint(error, o.fingerprintParts),
          decision: result.decision,
        });
        if (result.decision.type === 'restart' && !stopped) {
          const self = ctx.self;
          restartTimer = setTimeout(() => dispatch(self, { type: 'start' }), result.decision.delayMs);
          restartTimer.unref();
        }
        // The crashed task is gone; the actor itself keeps its mailbox and waits for 'start' or 'stop'.
        return ctx.reset;
      },
    },
  );
  return ref;
}

class WorkerFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly run: number,
  ) {
    super(errorMessage(error));
    this.name = 'WorkerFailure';
  }
}
