// The node's half of the control plane: joins `tributary.nodes` on the control topic, turns the
// partitions Kafka assigns into the integrations this node runs (ControlLedger), and carries the
// ledger's actions out one at a time: stop what moved away (before anything else), start what
// arrived once its previous owner let go, update, delete, reject, replay. A periodic audit stops
// integrations whose state-row epoch moved on (another node claimed them) — see docs/clustering.md.
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { NodeConfig } from '../config/node-config.js';
import { errorMessage } from '../errors.js';
import { controlNames, type ControlNames } from '../kafka/topics.js';
import type { RecordProducer } from '../kafka/produce-queue.js';
import type { Logger } from '../observability/logger.js';
import type { IntegrationRow, StateStore } from '../state/state-store.js';
import { ControlLedger, type LedgerAction, type PartitionOffsets } from './control-ledger.js';
import { decodeControlRecord, positionOf, type ControlRecord, type Decoded } from './control-record.js';
import { buildRejection, describeRejection, recordRejection } from './rejections.js';
import type { IntegrationSpec, SpecValidationOptions } from './spec.js';
import { stickyAssigner } from './sticky-assignor.js';

/** What the control plane needs from the node's actor system (the guardian provides it). */
export interface IntegrationRunner {
  /** `position`: the control record (`partition:offset`) being applied. */
  apply(spec: IntegrationSpec, position: string): void;
  /** Drains and stops these integrations (sources first); resolves when all are stopped. */
  remove(ids: readonly string[]): Promise<void>;
  replay(id: string, from: { timestamp: number } | { earliest: true }): Promise<{ ok: boolean; error?: string; partitions?: number }>;
  status(): Promise<{ integrationId: string; epoch: number | undefined }[]>;
}

export interface ControlPlaneOptions {
  kafka: Kafka;
  admin: Admin;
  producer: RecordProducer;
  state: StateStore;
  logger: Logger;
  nodeId: string;
  /** Client id prefix shared by all nodes: a node's Kafka client id is `<prefix>-<nodeId>`, how others recognise it among the group's members. */
  clientIdPrefix: string;
  config: NodeConfig['control'];
  validation: SpecValidationOptions;
  runner: IntegrationRunner;
  /** The group consumer died for good (not restartable): the node should exit and be replaced. */
  onFatal: (err: unknown) => void;
}

interface Applied {
  json: string;
  spec: IntegrationSpec;
  record: ControlRecord;
}

export interface ControlPlaneStatus {
  group: string;
  memberId: string | undefined;
  generation: number;
  partitions: number[];
  settled: boolean;
  integrations: number;
}

export class ControlPlane {
  private readonly ledger: ControlLedger;
  private readonly applied = new Map<string, Applied>();
  private consumer: Consumer | undefined;
  private queue: Promise<void> = Promise.resolve();
  private generation = 0;
  private memberId: string | undefined;
  private stopping = false;
  private ticker: NodeJS.Timeout | undefined;
  private lastTick = Date.now();
  private lastAudit = Date.now();
  private suspectSince = 0;
  private confirmedAt = 0;
  private members: { at: number; clientIds: Set<string> } | undefined;
  private readonly log: Logger;
  private readonly names: ControlNames;

  constructor(private readonly o: ControlPlaneOptions) {
    this.ledger = new ControlLedger((r) => decodeControlRecord(r, o.validation));
    this.log = o.logger.child({ component: 'control' });
    this.names = controlNames(o.config);
  }

  describe(): ControlPlaneStatus {
    return {
      group: this.names.group,
      memberId: this.memberId,
      generation: this.generation,
      partitions: this.ledger.assigned(),
      settled: this.ledger.settled(),
      integrations: this.applied.size,
    };
  }

  async start(): Promise<void> {
    const c = this.o.config;
    const consumer = this.o.kafka.consumer({
      groupId: this.names.group,
      sessionTimeout: c.sessionTimeoutMs,
      heartbeatInterval: c.heartbeatIntervalMs,
      rebalanceTimeout: c.rebalanceTimeoutMs,
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: 2 * 1024 * 1024,
      retry: { retries: 10 },
      // Sticky: a rebalance moves only the partitions of the node that left (or a joiner's share).
      partitionAssigners: stickyAssigner(() => ({ [this.names.topic]: this.ledger.assigned() })),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      // Fires after join+sync, before the first fetch of the new generation: queued first, the
      // lost integrations stop before any record of the new assignment is acted on.
      this.generation += 1;
      this.memberId = e.payload.memberId;
      this.confirmedAt = Date.now();
      const partitions = [...(e.payload.memberAssignment[this.names.topic] ?? [])].sort((a, b) => a - b);
      const generation = this.generation;
      void this.serial(() => this.onAssignment(partitions, generation));
    });
    consumer.on(consumer.events.HEARTBEAT, () => (this.confirmedAt = Date.now()));
    consumer.on(consumer.events.CRASH, (e) => {
      this.log.error({ err: errorMessage(e.payload.error), restart: e.payload.restart }, 'control consumer crashed');
      if (!e.payload.restart && !this.stopping) this.o.onFatal(e.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.names.topic, fromBeginning: true });
    // Never commits: every assignment re-reads its partitions from the beginning (kafkajs builds a
    // fresh offset manager per generation and falls back to the earliest offset).
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (p) => this.eachBatch(p) });
    this.ticker = setInterval(() => this.tick(), 500);
    this.ticker.unref();
  }

  /** Stops acting on the control topic (the node is draining); the group membership stays. */
  quiesce(): void {
    this.stopping = true;
    clearInterval(this.ticker);
  }

  /** Leaves the group: the partitions move to other nodes at once. Call after draining. */
  async stop(): Promise<void> {
    this.quiesce();
    await this.queue.catch(() => undefined);
    await this.consumer?.disconnect().catch((err) => this.log.warn({ err: errorMessage(err) }, 'control consumer disconnect failed'));
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn, fn).catch((err) => this.log.error({ err: errorMessage(err) }, 'control step failed'));
    this.queue = next;
    return next;
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const generation = this.generation;
    if (p.isStale() || !p.isRunning() || this.stopping) return;
    const records: ControlRecord[] = p.batch.messages.map((m) => ({
      partition: p.batch.partition,
      offset: m.offset,
      key: m.key === null ? null : m.key.toString('utf8'),
      value: m.value,
      timestamp: m.timestamp,
    }));
    // Work may wait behind a drain: keep the membership alive meanwhile.
    const beat = setInterval(() => void p.heartbeat().catch(() => undefined), Math.max(200, Math.floor(this.o.config.heartbeatIntervalMs / 2)));
    try {
      await this.serial(async () => {
        if (generation !== this.generation || this.stopping) return;
        for (const r of records) await this.execute(this.ledger.record(r, Date.now()), generation);
      });
      // In-memory position only (autoCommit is off): without it kafkajs fetches the batch again.
      if (records.length && !p.isStale()) p.resolveOffset(records[records.length - 1]!.offset);
    } finally {
      clearInterval(beat);
    }
  }

  private async onAssignment(partitions: number[], generation: number): Promise<void> {
    if (generation !== this.generation || this.stopping) return;
    const offsets = new Map<number, PartitionOffsets>();
    if (partitions.length) {
      for (const p of await this.o.admin.fetchTopicOffsets(this.names.topic)) offsets.set(p.partition, { low: p.low, high: p.high });
    }
    const before = this.ledger.assigned();
    const actions = this.ledger.assign(partitions, offsets, Date.now());
    this.log.info({ generation, partitions, previous: before }, 'control partitions assigned');
    await this.execute(actions, generation);
  }

  private tick(): void {
    const now = Date.now();
    const gap = now - this.lastTick;
    this.lastTick = now;
    if (gap > Math.max(2_000, this.o.config.sessionTimeoutMs / 2)) {
      // The process was paused (SIGSTOP, GC, starved CPU): our group membership and ownership
      // may be gone. Start nothing new until the group confirms us; check what runs now.
      this.suspectSince = now;
      this.log.warn({ pausedMs: gap }, 'node was paused; re-checking ownership of its integrations');
      void this.serial(() => this.audit());
    }
    void this.serial(async () => {
      if (this.stopping) return;
      await this.execute(this.ledger.tick(Date.now(), this.o.config.rebuildIdleMs), this.generation);
    });
    if (now - this.lastAudit >= this.o.config.auditIntervalMs) {
      this.lastAudit = now;
      void this.serial(() => this.audit());
    }
  }

  private async execute(actions: LedgerAction[], generation: number): Promise<void> {
    for (const a of actions) {
      // Stops always run (even while quiescing or after a newer assignment): nothing may keep running unowned.
      if (a.type === 'stop') {
        await this.stopIntegrations(a.ids, a.reason);
        continue;
      }
      if (this.stopping || generation !== this.generation) return;
      try {
        if (a.type === 'apply') await this.apply(a.record, a.decoded, generation);
        else if (a.type === 'delete') await this.delete(a.id);
        else await this.reject(a.record, a.decoded);
      } catch (err) {
        this.log.error({ integrationId: 'id' in a ? a.id : a.decoded.id, action: a.type, err: errorMessage(err) }, 'control action failed');
      }
    }
  }

  private async stopIntegrations(ids: readonly string[], reason: string): Promise<void> {
    const running = ids.filter((id) => this.applied.has(id));
    if (running.length === 0) return;
    this.log.info({ integrations: running.length, reason }, 'stopping integrations');
    const started = Date.now();
    await this.o.runner.remove(running);
    for (const id of running) this.applied.delete(id);
    this.log.info({ integrations: running.length, ms: Date.now() - started }, 'integrations stopped');
  }

  private async apply(record: ControlRecord, decoded: Extract<Decoded, { kind: 'spec' }>, generation: number): Promise<void> {
    const { id, spec, json } = decoded;
    const prev = this.applied.get(id);
    if (prev?.json === json) {
      // The same spec written again (not a re-read of the same record): nothing to change, but
      // `integrations … --wait` waits for this record, so the integration records it as applied.
      if (positionOf(prev.record) !== positionOf(record)) {
        this.o.runner.apply(spec, positionOf(record));
        this.applied.set(id, { ...prev, record });
      }
      return;
    }
    if (prev?.spec.tenantId !== undefined && spec.tenantId !== prev.spec.tenantId) {
      await this.reject(record, { kind: 'invalid', id, reason: 'tenant mismatch', issues: [{ path: 'tenantId', message: 'differs from the running spec\'s tenant' }] });
      return;
    }
    if (!prev) {
      if (!(await this.membershipConfirmed())) {
        this.log.warn({ integrationId: id }, 'group membership unconfirmed after a pause; not starting (the next assignment decides)');
        return;
      }
      await this.awaitHandover(id, generation);
      // A rebalance while waiting decides afresh (its assignment is queued behind this step).
      if (this.stopping || generation !== this.generation || !this.ledger.owns(record.partition)) return;
    }
    this.o.runner.apply(spec, positionOf(record));
    this.applied.set(id, { json, spec, record });
    this.log.info({ integrationId: id, state: spec.state, partition: record.partition, offset: record.offset, update: prev !== undefined }, prev ? 'spec updated' : 'integration assigned here');
    if (spec.replay) await this.replayOnce(id, spec.replay);
  }

  private async replayOnce(id: string, replay: NonNullable<IntegrationSpec['replay']>): Promise<void> {
    const row = (await this.o.state.get(id)) as (IntegrationRow & { lastReplay?: { requestId?: string } }) | undefined;
    if (row?.lastReplay?.requestId === replay.requestId) return;
    const from = replay.from === 'earliest' ? ({ earliest: true } as const) : { timestamp: Date.parse(replay.from) };
    const result = await this.o.runner.replay(id, from);
    const entry = { requestId: replay.requestId, from: replay.from, at: new Date().toISOString(), node: this.o.nodeId, ok: result.ok, ...(result.error ? { error: result.error.slice(0, 300) } : {}), ...(result.partitions === undefined ? {} : { partitions: result.partitions }) };
    await this.o.state.update(id, { lastReplay: entry });
    this.log.info({ integrationId: id, requestId: replay.requestId, from: replay.from, ok: result.ok, err: result.error }, 'replay done');
  }

  private async delete(id: string): Promise<void> {
    if (this.applied.has(id)) await this.stopIntegrations([id], 'deleted');
    const row = await this.o.state.get(id);
    if (row && row.status !== 'deleted') {
      await this.o.state.update(id, {
        status: 'deleted',
        statusReason: 'deleted by a tombstone on the control topic; its events topic is kept until retention',
        history: { node: this.o.nodeId, event: 'deleted', at: new Date().toISOString() },
      });
      this.log.info({ integrationId: id }, 'integration deleted');
    }
  }

  private async reject(record: ControlRecord, decoded: Extract<Decoded, { kind: 'invalid' }>): Promise<void> {
    const rejection = buildRejection(record, decoded, this.o.nodeId);
    const running = decoded.id !== null && this.applied.has(decoded.id);
    const outcome = await recordRejection({ producer: this.o.producer, state: this.o.state, topic: this.names.rejected }, rejection, running);
    if (outcome === 'recorded') {
      this.log.warn({ integrationId: decoded.id, partition: record.partition, offset: record.offset, reason: describeRejection(rejection), keptRunning: running }, 'control record rejected');
    }
  }

  /** After a pause, wait for the group to confirm the membership (a heartbeat or a join). */
  private async membershipConfirmed(): Promise<boolean> {
    if (this.suspectSince === 0 || this.confirmedAt > this.suspectSince) return true;
    const deadline = Date.now() + this.o.config.sessionTimeoutMs;
    while (Date.now() < deadline && !this.stopping) {
      if (this.confirmedAt > this.suspectSince) return true;
      await sleep(100);
    }
    return false;
  }

  /**
   * A still-live previous owner is draining the integration (a rebalance moved it here): wait for
   * its `released` history entry, or until it leaves the group, or for handoverTimeoutMs. A dead
   * or expelled owner is not a group member: no wait. Fencing covers whatever overlap remains.
   */
  private async awaitHandover(id: string, generation: number): Promise<void> {
    const deadline = Date.now() + this.o.config.handoverTimeoutMs;
    let waited = false;
    while (generation === this.generation && !this.stopping) {
      const row = await this.o.state.get(id);
      if (!row?.owner || row.owner === this.o.nodeId || released(row)) break;
      if (!(await this.isGroupMember(row.owner))) break;
      if (Date.now() >= deadline) {
        this.log.warn({ integrationId: id, previousOwner: row.owner }, 'previous owner did not release in time; taking over (its writes are fenced)');
        break;
      }
      waited = true;
      await sleep(250);
    }
    if (waited) this.log.info({ integrationId: id, waitedMs: this.o.config.handoverTimeoutMs - (deadline - Date.now()) }, 'previous owner released');
  }

  private async isGroupMember(nodeId: string): Promise<boolean> {
    const clientId = `${this.o.clientIdPrefix}-${nodeId}`;
    // One DescribeGroups answers for every integration of an assignment (a dead node's dozens).
    if (this.members && Date.now() - this.members.at < MEMBERS_FRESH_MS) return this.members.clientIds.has(clientId);
    try {
      const { groups: described } = await this.o.admin.describeGroups([this.names.group]);
      this.members = { at: Date.now(), clientIds: new Set((described[0]?.members ?? []).map((m) => m.clientId)) };
      return this.members.clientIds.has(clientId);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'cannot describe the nodes group; assuming the previous owner is alive');
      return true;
    }
  }

  /**
   * Integrations whose state row names a newer epoch were claimed by another node: stop them here.
   * If this node still owns their control partition (the other claim was a paused node acting on
   * a stale assignment), start them again through the normal handover.
   */
  private async audit(): Promise<void> {
    if (this.stopping || this.applied.size === 0) return;
    let snapshots: { integrationId: string; epoch: number | undefined }[];
    try {
      snapshots = await this.o.runner.status();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'ownership audit: status unavailable');
      return;
    }
    for (const s of snapshots) {
      const mine = this.applied.get(s.integrationId);
      if (!mine || s.epoch === undefined) continue;
      const row = await this.o.state.get(s.integrationId).catch(() => undefined);
      if (!row || row.ownerEpoch === undefined || row.ownerEpoch === s.epoch) continue;
      const generation = this.generation;
      this.log.warn({ integrationId: s.integrationId, epoch: s.epoch, ownerEpoch: row.ownerEpoch, owner: row.owner }, 'fenced: another node claimed this integration; stopping it here');
      await this.stopIntegrations([s.integrationId], 'fenced by a newer owner');
      if (this.ledger.owns(mine.record.partition) && this.ledger.placement().get(s.integrationId) === mine.record.partition) {
        await this.apply(mine.record, { kind: 'spec', id: s.integrationId, spec: mine.spec, json: mine.json }, generation);
      } else this.ledger.forget(s.integrationId);
    }
  }
}

/** How long one look at the nodes group's members answers handover checks. */
const MEMBERS_FRESH_MS = 500;

function released(row: IntegrationRow): boolean {
  if (row.status === 'deleted' || row.status === 'rejected') return true;
  const last = row.history?.[row.history.length - 1];
  return last?.event === 'released' && last.epoch === row.ownerEpoch;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
