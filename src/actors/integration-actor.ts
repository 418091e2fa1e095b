// One integration's lifecycle: claims ownership (fencing epoch), creates its topics, runs a
// source and a sink worker, pauses/resumes/updates/replays them, turns worker faults into
// status rows and failure reports, and drains on stop (source first, then sink).
import { dispatch, query, spawn, stop as stopActor, type Ref } from 'nact';
import type { IntegrationSpec } from '../control/spec.js';
import { tierSettings } from '../control/spec.js';
import { errorMessage, fingerprint as fingerprintOf } from '../errors.js';
import { groups, topics } from '../kafka/topics.js';
import { DedupWindow } from '../pipeline/dedup-window.js';
import type { IntegrationStatus } from '../state/state-store.js';
import { StateWriter } from '../state/state-writer.js';
import { spawnWorker, type WorkerMsg, type WorkerReport } from '../supervision/nact-adapter.js';
import { changedFlagScopes, type ResolvedFlags } from '../control/flags.js';
import { CanaryWatch } from '../supervision/canary.js';
import { LagGrowthDetector, lagGrowthFingerprint, lagGrowthMessage, type FlowCounter } from '../supervision/lag-growth.js';
import { ensureIntegrationTopics, integrationFlags, probeSink, startSinkTask, startSourceTask } from './integration-tasks.js';
import type { NodeContext } from './node-context.js';

export type ReplayFrom = { timestamp: number } | { earliest: true };

export interface IntegrationSnapshot {
  integrationId: string;
  appKey: string;
  tier: string;
  sinkType: string;
  status: IntegrationStatus;
  statusReason: string;
  checkpoint: string | undefined;
  epoch: number | undefined;
  source: boolean;
  sink: boolean;
  /** The sink is parked: out of its consumer group, waiting on the offset watcher (flag sink.parkWhenIdle). */
  sinkParked: boolean;
  /** The sink's start-up check is behind it: it ran, or the integration is paused or halted (for /readyz). */
  sinkChecked: boolean;
  /** The integration thread that runs it (`integrations.threads`); absent on the main thread. */
  thread?: number;
}

export type IntegrationMsg =
  /** `position`: the control record applied (`partition:offset`), recorded in the state row once done. */
  | { type: 'start'; spec: IntegrationSpec; position?: string | undefined }
  | { type: 'update'; spec: IntegrationSpec; position?: string | undefined }
  | { type: 'replay'; from: ReplayFrom; ack: Ref<{ ok: boolean; error?: string; partitions?: number }> }
  | { type: 'stop'; ack?: Ref<boolean> }
  | { type: 'status'; ack: Ref<IntegrationSnapshot> }
  /** `worker`: the reporting worker; a report of one already stopped or replaced is dropped. */
  | { type: 'workerReport'; role: Role; report: WorkerReport; worker: Ref<WorkerMsg> | undefined }
  | { type: 'probe'; role: Role }
  | { type: 'lagSample' }
  /** The flags topic changed: re-resolve this integration's flags, restart what they affect. */
  | { type: 'flagsChanged' };

type Role = 'source' | 'sink';

interface Ctx {
  spec: IntegrationSpec | undefined;
  epoch: number | undefined;
  writer: StateWriter | undefined;
  dedup: DedupWindow | undefined;
  workers: Partial<Record<Role, Ref<WorkerMsg>>>;
  status: IntegrationStatus;
  statusReason: string;
  checkpoint: string | undefined;
  faulted: Set<Role>;
  probes: Partial<Record<Role, NodeJS.Timeout>>;
  stopped: boolean;
  /** Arrivals and consumption since this actor started, for the lag-growth detector. */
  flow: FlowCounter;
  /** Present while the `alerting.lagGrowth` flag is on for this integration and it runs. */
  lag: LagGrowthDetector | undefined;
  /** A lag-growth failure is open: the status stays `failing` until its recovery. */
  lagging: boolean;
  lagTimer: NodeJS.Timeout | undefined;
  /** Present while the spec marks the integration as a canary and it runs (sampled with the lag). */
  canary: CanaryWatch | undefined;
  sinkParked: boolean;
  sinkChecked: boolean;
  /** The flags the running workers were started with (compared on updates and flag changes). */
  flags: ResolvedFlags | undefined;
  /** `start` completed (claimed, topics ready, workers started): updates and flag changes apply. */
  started: boolean;
  /** The control record of an update that arrived before `start` completed (applied by its retry). */
  pendingPosition: string | undefined;
}

const ACK_MS = 120_000;

export function spawnIntegration(parent: Ref<unknown>, node: NodeContext, id: string): Ref<IntegrationMsg> {
  const c: Ctx = {
    spec: undefined,
    epoch: undefined,
    writer: undefined,
    dedup: undefined,
    workers: {},
    status: 'starting',
    statusReason: '',
    checkpoint: undefined,
    faulted: new Set(),
    probes: {},
    stopped: false,
    flow: { produced: 0, consumed: 0 },
    lag: undefined,
    lagging: false,
    lagTimer: undefined,
    canary: undefined,
    sinkParked: false,
    sinkChecked: false,
    flags: undefined,
    started: false,
    pendingPosition: undefined,
  };
  const log = node.logger.child({ integrationId: id });
  /** An episode judged by the actor itself (lag growth, canary) is open: the status stays `failing`. */
  const watchFailing = () => c.lagging || c.canary?.isFailing === true;

  /**
   * A cause of trouble opened (a worker crashed or degraded, lag growth, a late canary): a failure
   * report to the guardian, the error in the row's `lastErrors`, and — with `setFailing` — status
   * `failing` (`<stage>: <message>`), unless a halted sink keeps it `misconfigured` or it is paused.
   */
  const causeOpened = async (
    spec: IntegrationSpec,
    f: { time?: number; errorClass: string; fingerprint: string; message: string; code: string; stage: string },
    setFailing = true,
  ) => {
    node.reportFailure({ integrationId: id, appKey: spec.app.key, tier: spec.app.size, nodeId: node.nodeId, time: f.time ?? Date.now(), kind: 'failure', errorClass: f.errorClass as never, fingerprint: f.fingerprint, message: f.message });
    const error = { class: f.errorClass, code: f.code, message: f.message, fingerprint: f.fingerprint, at: new Date().toISOString(), stage: f.stage };
    await node.state.update(id, { ...(c.epoch === undefined ? {} : { epoch: c.epoch }), error }).catch(() => undefined);
    if (setFailing && c.status !== 'misconfigured' && spec.state === 'running') await setStatus('failing', `${f.stage}: ${f.message}`);
  };

  /**
   * One cause of trouble ended (a worker recovered, a lag or canary episode closed). The guardian's
   * episode is the integration's, so the recovery is reported only when no other cause is open
   * (a Connect blip ending must not end a canary's or a halted sink's episode); then the status
   * goes back to running unless a halted role still waits for its probe.
   */
  const causeEnded = async (spec: IntegrationSpec, fingerprint: string, time = Date.now()) => {
    if (c.faulted.size > 0 || watchFailing()) {
      // A halted sink back with a canary or lag episode still open: failing, not misconfigured.
      if (c.faulted.size === 0 && c.status === 'misconfigured') await setStatus('failing', c.lagging ? 'sink: backlog still growing' : 'canary: still outside its bounds');
      return;
    }
    node.reportFailure({ integrationId: id, appKey: spec.app.key, tier: spec.app.size, nodeId: node.nodeId, time, kind: 'recovery', errorClass: 'retryable', fingerprint });
    if (spec.state === 'running' && !c.probes.sink && !c.probes.source && (c.status === 'failing' || c.status === 'misconfigured')) await setStatus('running');
  };

  const setStatus = async (status: IntegrationStatus, reason = '') => {
    if (c.status === status && c.statusReason === reason) return;
    c.status = status;
    c.statusReason = reason;
    await node.state
      .update(id, { ...(c.epoch === undefined ? {} : { epoch: c.epoch }), status, statusReason: reason.slice(0, 500) })
      .catch((err) => log.warn({ err: errorMessage(err) }, 'state update failed'));
  };

  /** Tells `integrations … --wait` that this control record is in force here (fenced like any row write). */
  const recordApplied = async (position: string | undefined) => {
    if (position === undefined || c.epoch === undefined) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await node.state.update(id, { epoch: c.epoch, appliedSpec: position });
        return;
      } catch (err) {
        if (attempt >= 3) return log.warn({ err: errorMessage(err), position }, 'could not record the applied spec (integrations --wait will time out)');
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  };

  const startWorker = (self: Ref<IntegrationMsg>, role: Role) => {
    const spec = c.spec!;
    // Reports are called only after spawnWorker returned, so `ref` is set by then.
    let ref: Ref<WorkerMsg> | undefined;
    const report = (r: WorkerReport) => dispatch(self, { type: 'workerReport', role, report: r, worker: ref });
    ref = spawnWorker(self, {
      name: role,
      policy: node.restartPolicy,
      report,
      fingerprintParts: [role === 'sink' ? String(spec.sink.type) : 'connect'],
      initiallyFaulted: c.faulted.has(role),
      start: (healthy, degraded) =>
        role === 'source'
          ? startSourceTask({
              node,
              spec,
              state: c.writer!,
              resumeOffset: () => c.checkpoint,
              onCheckpoint: (o) => (c.checkpoint = o),
              healthy,
              degraded,
              flow: c.flow,
            })
          : startSinkTask({
              node,
              spec,
              state: c.writer!,
              dedup: c.dedup!,
              healthy,
              flow: c.flow,
              onParked: (parked) => (c.sinkParked = parked),
              onChecked: () => (c.sinkChecked = true),
              onLatency: (ms) => c.canary?.delivered(Date.now(), ms),
            }),
    });
    c.workers[role] = ref;
    dispatch(ref, { type: 'start' });
  };

  const stopWorker = async (role: Role) => {
    clearTimeout(c.probes[role]);
    delete c.probes[role];
    const ref = c.workers[role];
    if (!ref) return;
    delete c.workers[role];
    await query(ref, (ack: Ref<boolean>) => ({ type: 'stop', ack }), ACK_MS).catch((err) =>
      log.warn({ role, err: errorMessage(err) }, 'worker did not stop in time'),
    );
    stopActor(ref);
  };

  const run = async (self: Ref<IntegrationMsg>) => {
    const spec = c.spec!;
    if (spec.state === 'paused') {
      await setStatus('paused', 'paused by its spec');
      return;
    }
    // A halted role (probe pending) or an open lag-growth or canary episode keeps its status; a
    // role still failing (e.g. Connect refusing) keeps `failing` until it recovers.
    if (!watchFailing() && !c.probes.sink && !c.probes.source) {
      if (c.faulted.size === 0) await setStatus('running');
      else if (c.status === 'paused' || c.status === 'starting') await setStatus('failing', `${[...c.faulted].join(', ')}: not recovered yet`);
    }
    // Sink first: it is ready to drain whatever the source produces.
    if (!c.workers.sink && !c.probes.sink) startWorker(self, 'sink');
    if (!c.workers.source && !c.probes.source) startWorker(self, 'source');
  };

  /**
   * A new spec (or the same spec with other flags) for a started integration: restarts only what
   * changed. When nothing changed and nothing is missing (an identical re-write, an alerting-only
   * flag), nothing restarts and the status stays as it is: a halted sink stays halted.
   */
  const applySpec = async (self: Ref<IntegrationMsg>, spec: IntegrationSpec, position: string | undefined) => {
    const old = c.spec!;
    c.spec = spec;
    // Flags restart only the part they affect; alerting flags restart nothing (read per sample).
    const flags = integrationFlags(node, spec);
    const flagScopes = changedFlagScopes(c.flags ?? integrationFlags(node, old), flags);
    c.flags = flags;
    // The canary's bounds are read per sample: changing them restarts nothing.
    const opts = (s: IntegrationSpec) => ({ ...s.options, canary: undefined });
    const sourceChanged = flagScopes.has('source') || JSON.stringify([old.app, old.connect, opts(old)]) !== JSON.stringify([spec.app, spec.connect, opts(spec)]);
    const sinkChanged = flagScopes.has('sink') || JSON.stringify([old.sink, opts(old)]) !== JSON.stringify([spec.sink, opts(spec)]);
    const stateChanged = old.state !== spec.state;
    if (flagScopes.size > 0) log.info({ scopes: [...flagScopes], sourceChanged, sinkChanged }, 'feature flags changed');
    if (spec.state === 'paused') {
      if (stateChanged || c.workers.source || c.workers.sink) {
        await drain();
        await setStatus('paused', 'paused by its spec');
      }
      await recordApplied(position);
      return;
    }
    const missing = (role: Role) => !c.workers[role] && !c.probes[role];
    if (!sourceChanged && !sinkChanged && !stateChanged && !missing('source') && !missing('sink')) {
      await recordApplied(position);
      return;
    }
    // Restart only what changed: a sink change does not touch the source.
    for (const [role, changed] of [['source', sourceChanged], ['sink', sinkChanged]] as const) {
      if (!changed) continue;
      await stopWorker(role);
      c.faulted.delete(role);
    }
    // A rebuilt pipeline is judged afresh: its old growth says nothing about the new sink.
    if (sourceChanged || sinkChanged) await endLagEpisode(spec, 'pipeline restarted by an update');
    await ensureIntegrationTopics(node, spec);
    await run(self);
    await recordApplied(position);
  };

  const drain = async () => {
    await stopWorker('source');
    await stopWorker('sink');
    await c.writer?.flush().catch((err) => log.warn({ err: errorMessage(err) }, 'final state flush failed'));
  };

  const onReport = async (self: Ref<IntegrationMsg>, role: Role, r: WorkerReport) => {
    const spec = c.spec;
    if (!spec || c.stopped) return;
    if (r.type === 'workerHealthy') {
      if (!c.faulted.delete(role)) return;
      await causeEnded(spec, `${role}-recovered`);
      await node.state.update(id, { ...(c.epoch === undefined ? {} : { epoch: c.epoch }), history: { node: node.nodeId, event: `${role} recovered`, at: new Date().toISOString() } }).catch(() => undefined);
      return;
    }
    c.faulted.add(role);
    const message = errorMessage(r.error).slice(0, 500);
    const mtags = { tier: spec.app.size, role };
    // A degraded worker retries by itself (no restart): the same report, row and status as a crash.
    node.metrics.count(r.type === 'workerDegraded' ? 'supervision.degraded' : 'supervision.crashes', 1, { ...mtags, class: r.kind });
    if (r.type === 'workerFaulted' && r.decision.type === 'restart') node.metrics.count('supervision.restarts', 1, mtags);
    if (r.type === 'workerFaulted' && r.decision.type === 'halt') node.metrics.count('supervision.halts', 1, mtags);
    log.warn({ role, kind: r.kind, decision: r.type === 'workerDegraded' ? 'retrying' : r.decision.type, err: message }, r.type === 'workerDegraded' ? 'worker degraded' : 'worker faulted');
    // A degraded worker's status is set here; a crash's follows from the restart decision below.
    await causeOpened(spec, { errorClass: r.kind, fingerprint: r.fingerprint, message, code: String((r.error as { code?: unknown })?.code ?? 'unknown'), stage: role }, r.type === 'workerDegraded');
    if (r.type === 'workerDegraded') return;
    switch (r.decision.type) {
      case 'restart':
        await setStatus('failing', `${role}: ${message}`);
        break;
      case 'halt':
        // Misconfiguration: data waits in Kafka; a slow probe retries (≤ 1 per probe interval).
        await setStatus('misconfigured', `${role}: ${message}`);
        await stopWorker(role);
        c.faulted.add(role);
        c.probes[role] = setTimeout(() => dispatch(self, { type: 'probe', role }), node.probeIntervalMs);
        c.probes[role]!.unref();
        break;
      case 'escalate':
        await setStatus('failing', `${role}: ${r.decision.reason}`.slice(0, 500));
        // Past the restart budget: keep trying, slowly, rather than stall a customer's data.
        await stopWorker(role);
        c.faulted.add(role);
        c.probes[role] = setTimeout(() => dispatch(self, { type: 'probe', role }), node.restartPolicy.maxDelayMs);
        c.probes[role]!.unref();
        break;
      case 'resume':
        break;
    }
  };

  /**
   * One lag-growth sample (flag `alerting.lagGrowth`). The flag is read from the current spec
   * on every sample, so flipping it restarts nothing; turning it off (or pausing) ends an open
   * episode with a recovery, since nothing watches it any more.
   */
  const endLagEpisode = async (spec: IntegrationSpec, why: string) => {
    c.lag = undefined;
    if (!c.lagging) return;
    c.lagging = false;
    log.info({ why }, 'lag growth episode ended');
    await causeEnded(spec, lagGrowthFingerprint(String(spec.sink.type)));
  };

  /**
   * Whether a sample can change anything: the flag or a canary asks for one, or a detector or an
   * episode is still open (a sample then closes it). Checked in the timer, so a thousand quiet
   * integrations do not each send their actor a message every few seconds for nothing.
   */
  const sampleWanted = (): boolean => {
    const spec = c.spec;
    if (!spec || c.stopped) return false;
    if (c.lag || c.lagging || c.canary) return true;
    return spec.state === 'running' && (spec.options.canary !== undefined || integrationFlags(node, spec)['alerting.lagGrowth']);
  };

  /**
   * The sampling timer runs only while a sample is wanted. Re-checked wherever what `sampleWanted`
   * reads can change: a start, a spec or flag update, a sample (which ends an episode). An
   * interval per integration that only checks and sleeps is not free: 1,000 of them at the 5 s
   * default cost ~0.7 % of a core in a process doing nothing else (BENCHMARKS.md, 2026-12-05 17:56).
   */
  const syncLagTimer = (self: Ref<IntegrationMsg>) => {
    const wanted = sampleWanted();
    if (wanted && !c.lagTimer) {
      c.lagTimer = setInterval(() => sampleWanted() && dispatch(self, { type: 'lagSample' }), node.config.alerting.lagGrowth.sampleMs);
      c.lagTimer.unref();
    } else if (!wanted && c.lagTimer) {
      clearInterval(c.lagTimer);
      c.lagTimer = undefined;
    }
  };

  /** One canary sample (`options.canary`): a late or silent canary is a failure of this integration. */
  const sampleCanary = async () => {
    const spec = c.spec;
    if (!spec || c.stopped) return;
    const bounds = spec.state === 'running' ? spec.options.canary : undefined;
    const now = Date.now();
    const old = c.canary;
    if (old && (!bounds || old.bounds.maxLatencyMs !== bounds.maxLatencyMs || old.bounds.maxSilenceMs !== bounds.maxSilenceMs)) {
      // Paused, no longer a canary, or new bounds: nothing judges the old episode any more.
      c.canary = undefined;
      if (old.isFailing) await causeEnded(spec, 'canary-recovered', now);
    }
    if (!bounds) return;
    c.canary ??= new CanaryWatch(bounds, String(spec.sink.type), now);
    const v = c.canary.sample(now);
    if (v?.type === 'failure') {
      log.warn({ reason: v.reason, since: new Date(v.time).toISOString() }, v.message);
      await causeOpened(spec, { time: v.time, errorClass: 'retryable', fingerprint: v.fingerprint, message: v.message, code: `canary_${v.reason}`, stage: 'canary' });
    } else if (v?.type === 'recovery') {
      log.info('canary within its bounds again');
      await causeEnded(spec, 'canary-recovered', v.time);
    }
  };

  const sampleLag = async () => {
    const spec = c.spec;
    if (!spec || c.stopped) return;
    const endEpisode = (why: string) => endLagEpisode(spec, why);
    if (!integrationFlags(node, spec)['alerting.lagGrowth'] || spec.state !== 'running') {
      await endEpisode(spec.state === 'running' ? 'flag alerting.lagGrowth turned off' : 'paused');
      return;
    }
    const cfg = node.config.alerting.lagGrowth;
    c.lag ??= new LagGrowthDetector({ windowMs: cfg.windowMs, thresholdMs: cfg.thresholdMs[spec.app.size], minGrowthEvents: cfg.minGrowthEvents, minGrowthRatio: cfg.minGrowthRatio });
    const now = Date.now();
    const r = c.lag.observe({ time: now, produced: c.flow.produced, consumed: c.flow.consumed });
    if (r?.type === 'recovery') {
      log.info({ arrivalRate: r.arrivalRate, deliveryRate: r.deliveryRate }, 'backlog no longer growing');
      await endEpisode('backlog no longer growing');
    } else if (r?.type === 'failure') {
      c.lagging = true;
      const message = lagGrowthMessage(r, now);
      log.warn({ arrivalRate: r.arrivalRate, deliveryRate: r.deliveryRate, growth: r.growth, since: new Date(r.time).toISOString() }, 'sink slower than arrivals: backlog growing');
      // Stamped when the growth began, so the guardian's tier threshold counts from there; the row
      // says failing, so every node's fleet view (and reconcile) sees the episode.
      await causeOpened(spec, { time: r.time, errorClass: 'retryable', fingerprint: lagGrowthFingerprint(String(spec.sink.type)), message, code: 'sink_slower_than_arrivals', stage: 'sink' });
    }
  };

  return spawn(
    parent as Ref<never>,
    async (_state: null, msg: IntegrationMsg, ctx): Promise<null> => {
      const self = ctx.self as Ref<IntegrationMsg>;
      switch (msg.type) {
        case 'start': {
          c.spec = msg.spec;
          c.flags = integrationFlags(node, msg.spec);
          const claimed = await node.state.claim(id, node.nodeId, { appKey: msg.spec.app.key, tier: msg.spec.app.size, sinkType: String(msg.spec.sink.type), specVersion: msg.spec.version });
          c.epoch = claimed.epoch;
          c.checkpoint = claimed.row.checkpoint;
          c.status = claimed.row.status ?? 'starting';
          c.dedup = new DedupWindow(msg.spec.options.dedupWindow ?? tierSettings(msg.spec.app.size).dedupWindow);
          c.writer = new StateWriter(node.state, {
            integrationId: id,
            epoch: claimed.epoch,
            onFenced: () => {
              log.warn('fenced: another node owns this integration now; stopping it here');
              dispatch(self, { type: 'stop' });
            },
            onError: (err) => log.warn({ err: errorMessage(err) }, 'state flush failed'),
          });
          await ensureIntegrationTopics(node, msg.spec);
          log.info({ epoch: c.epoch, checkpoint: c.checkpoint, state: msg.spec.state }, 'integration starting');
          await run(self);
          c.started = true;
          await recordApplied(c.pendingPosition ?? msg.position);
          c.pendingPosition = undefined;
          syncLagTimer(self);
          return null;
        }
        case 'update': {
          if (c.stopped) return null;
          // Before `start` completed (its retry is pending): the retry starts with this spec.
          if (!c.started) {
            c.spec = msg.spec;
            c.pendingPosition = msg.position ?? c.pendingPosition;
            return null;
          }
          await applySpec(self, msg.spec, msg.position);
          syncLagTimer(self);
          return null;
        }
        case 'flagsChanged': {
          if (c.stopped || !c.started || !c.spec || !c.flags) return null;
          if (changedFlagScopes(c.flags, integrationFlags(node, c.spec)).size === 0) return null;
          // Applied in place (not re-queued): a newer spec already in the mailbox stays the newest.
          await applySpec(self, c.spec, undefined);
          syncLagTimer(self);
          return null;
        }
        case 'replay': {
          try {
            const partitions = await replaySink(node, id, msg.from, () => stopWorker('sink'));
            c.dedup?.clear();
            await node.state.update(id, { lastReplay: { from: 'timestamp' in msg.from ? new Date(msg.from.timestamp).toISOString() : 'earliest', at: new Date().toISOString(), node: node.nodeId } });
            if (c.spec?.state === 'running' && c.status !== 'misconfigured') startWorker(self, 'sink');
            dispatch(msg.ack, { ok: true, partitions });
          } catch (err) {
            if (c.spec?.state === 'running' && !c.workers.sink) startWorker(self, 'sink');
            dispatch(msg.ack, { ok: false, error: errorMessage(err) });
          }
          return null;
        }
        case 'probe': {
          delete c.probes[msg.role];
          if (c.stopped || c.spec?.state !== 'running' || c.workers[msg.role]) return null;
          // A halted sink is probed with its healthcheck (one request, no data) before its
          // consumer restarts, so a still-broken endpoint sees one request per probe interval.
          if (msg.role === 'sink' && c.status === 'misconfigured') {
            const problem = await probeSink(node, c.spec);
            if (problem) {
              log.info({ problem }, 'sink probe failed; still misconfigured');
              c.probes.sink = setTimeout(() => dispatch(self, { type: 'probe', role: 'sink' }), node.probeIntervalMs);
              c.probes.sink.unref();
              return null;
            }
          }
          startWorker(self, msg.role);
          return null;
        }
        case 'workerReport':
          // From a worker already stopped or replaced (an update, a pause): stale, dropped.
          if (msg.worker === undefined || msg.worker !== c.workers[msg.role]) return null;
          await onReport(self, msg.role, msg.report);
          return null;
        case 'lagSample':
          await sampleLag();
          await sampleCanary();
          syncLagTimer(self);
          return null;
        case 'status':
          dispatch(msg.ack, {
            integrationId: id,
            appKey: c.spec?.app.key ?? '',
            tier: c.spec?.app.size ?? '',
            sinkType: String(c.spec?.sink.type ?? ''),
            status: c.status,
            statusReason: c.statusReason,
            checkpoint: c.checkpoint,
            epoch: c.epoch,
            source: c.workers.source !== undefined,
            sink: c.workers.sink !== undefined,
            sinkParked: c.workers.sink !== undefined && c.sinkParked,
            sinkChecked: c.sinkChecked || c.status === 'misconfigured' || c.spec?.state === 'paused' || c.stopped,
          });
          return null;
        case 'stop': {
          if (!c.stopped) {
            c.stopped = true;
            clearInterval(c.lagTimer);
            c.lagTimer = undefined;
            await drain();
            await c.writer?.close().catch(() => undefined);
            // Tells a node waiting to take over that nothing runs here any more (fenced: a no-op).
            if (c.epoch !== undefined && !c.writer?.isFenced) {
              await node.state
                .update(id, { epoch: c.epoch, history: { node: node.nodeId, event: 'released', at: new Date().toISOString(), epoch: c.epoch } })
                .catch((err) => log.warn({ err: errorMessage(err) }, 'release not recorded'));
            }
          }
          if (msg.ack) dispatch(msg.ack, true);
          return null;
        }
      }
    },
    id,
    {
      initialState: null,
      onCrash: (msg, err, ctx) => {
        // A lifecycle step failed (e.g. Kafka unreachable while creating topics): retry it later.
        log.error({ err: errorMessage(err), msg: (msg as IntegrationMsg | undefined)?.type }, 'integration lifecycle step failed');
        const spec = c.spec;
        if (spec) {
          node.reportFailure({ integrationId: id, appKey: spec.app.key, tier: spec.app.size, nodeId: node.nodeId, time: Date.now(), kind: 'failure', errorClass: 'retryable', fingerprint: fingerprintOf(err, ['lifecycle']) });
        }
        const m = msg as IntegrationMsg | undefined;
        if (m && (m.type === 'start' || m.type === 'update' || m.type === 'flagsChanged') && !c.stopped) {
          const self = ctx.self;
          // Retried with the newest spec this actor has seen when the retry fires (an update may
          // arrive during the delay), never an older one.
          setTimeout(() => {
            if (c.stopped) return;
            if (m.type === 'start') dispatch(self, { type: 'start', spec: c.spec ?? m.spec, position: c.pendingPosition ?? m.position });
            else if (c.spec) dispatch(self, { type: 'update', spec: c.spec, position: m.type === 'update' ? m.position : undefined });
          }, node.restartPolicy.initialDelayMs * 5).unref();
        }
        return ctx.resume;
      },
    },
  );
}

/** Moves the sink's consumer group to a timestamp (or the beginning) while the sink is stopped. */
async function replaySink(node: NodeContext, id: string, from: ReplayFrom, stopSink: () => Promise<void>): Promise<number> {
  const topic = topics.events(id);
  const groupId = groups.sink(id);
  await stopSink();
  const positions =
    'timestamp' in from
      ? await node.admin.fetchTopicOffsetsByTimestamp(topic, from.timestamp)
      : (await node.admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.low }));
  // The group must be empty to be moved; the sink just left it, the coordinator may lag a moment.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await node.admin.setOffsets({ groupId, topic, partitions: positions.map((p) => ({ partition: p.partition, offset: p.offset })) });
      return positions.length;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
