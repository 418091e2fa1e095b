// A node's integrations on worker threads (`integrations.threads`), each thread with a guardian,
// a heap and clients of its own (integration-thread.ts). Why: every major GC marks the whole heap
// of the thread it runs on, so on one thread the 990 idle integrations of a crowded node are
// marked again for every major GC the 10 busy ones cause (BENCHMARKS.md, scenario 3); on N
// threads each GC marks one thread's share, and the node's JavaScript can use more than one core.
//
// To the node this is a guardian like the in-process one: it takes specs, removals, replays and
// status queries, in order (one chain, as the guardian's mailbox orders them), and hands the
// failure reports of every thread to the node's alerting on the main thread.
//
// Placement: an app's integrations share one thread (its app actor), chosen when the app's first
// integration arrives as the thread with the least weight (each integration weighs by its app's
// size: large 100, medium 10, small 1) and kept while the app has integrations on the node.
//
// A thread that ends unasked (a crash, out of memory) is started again after a second and given
// its integrations again, which resume from their checkpoints like any restarted integration;
// pending requests to it are answered as failed, a replay asked meanwhile waits for the new thread,
// and status shows its integrations as starting. A thread that does not answer a ping (its event
// loop), or a request within the guardian's own bound plus a margin, is taken as stuck and ended,
// so the same restart follows.
// Three such ends within five minutes are a node fault (`onFatal`): the orchestrator replaces the node.
import type { Worker } from 'node:worker_threads';
import type { NodeGuardian } from '../actors/guardian.js';
import type { IntegrationSnapshot, ReplayFrom } from '../actors/integration-actor.js';
import type { FlagOverrides } from '../control/flags.js';
import type { IntegrationSpec } from '../control/spec.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { FailureReport, Tier } from '../supervision/guardian-types.js';
import type { FromThread, IntegrationThreadData, ReplayAnswer, ToThread } from './integration-thread-wire.js';
import { siblingModule, startModuleWorker } from './module-worker.js';

export interface IntegrationThreadsOptions {
  threads: number;
  data: Omit<IntegrationThreadData, 'index' | 'flags'>;
  /** The flags topic's values now (each thread starts with them). */
  flags: () => FlagOverrides;
  logger: Logger;
  metrics: Pick<Metrics, 'count'>;
  onReport: (r: FailureReport) => void;
  /** Threads keep ending (see above), or one could not be started again. */
  onFatal: (reason: string) => void;
  /** Tests: the thread's entry module. */
  entry?: URL | undefined;
  /** Tests: the wait before a thread that ended is started again (default 1 s). */
  restartDelayMs?: number | undefined;
  /** Tests: the bounds of a status query (default 20 s) and of a removal's or replay's answer (210 s). */
  statusMs?: number | undefined;
  answerMs?: number | undefined;
  /** Tests: how often each thread is pinged (default 10 s) and how long it has to answer (60 s). */
  pingMs?: number | undefined;
  pingAnswerMs?: number | undefined;
}

/** `null`: a status the thread could not give (it ended first). */
type Answer = IntegrationSnapshot[] | ReplayAnswer | boolean | null;
type Request = { id: number } & ToThread;
type RequestOp = Request['op'];

interface Pending {
  resolve: (v: Answer) => void;
  /** The answer when the thread ends first. */
  fallback: Answer;
}

interface Thread {
  index: number;
  worker: Worker;
  pending: Map<number, Pending>;
  /** Settles once the thread said `ready` (or failed to start). */
  ready: Promise<void>;
  ended: boolean;
  /** It said `ready`. */
  running: boolean;
  /** A ping to it awaits its answer. */
  pinged: boolean;
  /** Why it ended. */
  cause?: string;
  /** Set once it ended: settles when its successor is in place, or none will be (fatal, stopping). */
  replaced?: Promise<void>;
}

interface Held {
  spec: IntegrationSpec;
  position: string | undefined;
  thread: number;
}

const tierWeight: Record<Tier, number> = { small: 1, medium: 10, large: 100 };
/** As the in-process guardian's status query. */
const STATUS_MS = 20_000;
/**
 * A thread's guardian bounds a removal or a replay by 180 s (ACK_MS in actors/guardian.ts) and
 * answers then; one that has not answered this long after is stuck (its event loop blocked).
 */
const ANSWER_MS = 210_000;
/**
 * A thread's event loop answers a ping at once; one that has not for this long is stuck (a loop
 * that never yields, in one integration) and is ended and started again. The main thread's own
 * event loop is watched by the orchestrator's health check on /healthz; a thread's is not.
 */
const PING_MS = 10_000;
const PING_ANSWER_MS = 60_000;
const FATAL_ENDS = 3;
const FATAL_WINDOW_MS = 5 * 60_000;

export class IntegrationThreads implements NodeGuardian {
  private readonly threads: Thread[] = [];
  /** Thread index by app key, while the app has integrations here. */
  private readonly appThread = new Map<string, number>();
  private readonly held = new Map<string, Held>();
  private readonly weight: number[];
  private readonly ends: number[] = [];
  private readonly entry: URL;
  private chain: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private stopping = false;
  /** `start` resolved: a thread that ends from now on is started again. */
  private started = false;
  private readonly answerMs: number;
  /** Threads kept ending: no more restarts (the node is being replaced). */
  private gaveUp = false;
  private pinger: NodeJS.Timeout | undefined;

  constructor(private readonly o: IntegrationThreadsOptions) {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new RangeError(`integration threads: ${o.threads} (at least 1)`);
    this.weight = new Array<number>(o.threads).fill(0);
    this.entry = o.entry ?? siblingModule('integration-thread', import.meta.url);
    this.answerMs = o.answerMs ?? ANSWER_MS;
  }

  /** Starts every thread; rejects (after ending those started) when one cannot start. */
  async start(): Promise<void> {
    try {
      for (let i = 0; i < this.o.threads; i++) this.threads.push(this.spawn(i));
      await Promise.all(this.threads.map((t) => t.ready));
      this.started = true;
    } catch (err) {
      this.stopping = true;
      await Promise.allSettled(this.threads.map((t) => t.worker.terminate()));
      throw err;
    }
    // A thread that said ready and ended while another was still starting: restarted from now on.
    for (const t of this.threads) if (t.ended) this.ended(t, t.cause ?? 'exited');
    // Flag changes read while the threads started (each copied the flags when it was spawned).
    this.flagsChanged();
    this.pinger = setInterval(() => this.ping(), this.o.pingMs ?? PING_MS);
    this.pinger.unref();
  }

  /** Asks every running thread whether its event loop still turns; one that does not answer in time is ended (then restarted). */
  private ping(): void {
    if (this.stopping) return;
    for (const t of this.threads) {
      if (t.ended || !t.running || t.pinged) continue;
      t.pinged = true;
      void this.request(t.index, 'ping', {}, false, this.o.pingAnswerMs ?? PING_ANSWER_MS).then(() => (t.pinged = false));
    }
  }

  /** The threads' workers now, by index (diagnostics, tests: a thread's `threadId`, or ending one as a crash would). */
  workers(): readonly Worker[] {
    return this.threads.map((t) => t.worker);
  }

  /** Which thread runs an integration now (tests, /status); undefined when it is not held here. */
  threadOf(integrationId: string): number | undefined {
    return this.held.get(integrationId)?.thread;
  }

  apply(spec: IntegrationSpec, position?: string): void {
    void this.enqueue(async () => {
      const prev = this.held.get(spec.id);
      const thread = this.appThread.get(spec.app.key) ?? this.lightest();
      if (prev && prev.thread !== thread) {
        // The integration moved to an app on another thread: stop it where it ran first. Not
        // stopped there in time: not started on the other (the in-process guardian drops such an
        // apply too); the step fails, logged, and the integration keeps its old spec.
        const stopped = await this.request(prev.thread, 'removeMany', { integrationIds: [spec.id] }, true, this.answerMs);
        if (!stopped) throw new Error(`integration ${spec.id} did not stop on integration thread ${prev.thread} in time; its move to thread ${thread} is not applied`);
      }
      this.forget(spec.id);
      this.held.set(spec.id, { spec, position, thread });
      this.appThread.set(spec.app.key, thread);
      this.weight[thread]! += tierWeight[spec.app.size];
      this.send(thread, { op: 'apply', spec, position });
    });
  }

  async remove(integrationId: string): Promise<void> {
    await this.removeMany([integrationId]);
  }

  async removeMany(integrationIds: readonly string[]): Promise<void> {
    if (integrationIds.length === 0) return;
    await this.enqueue(async () => {
      const byThread = new Map<number, string[]>();
      for (const id of integrationIds) {
        const h = this.held.get(id);
        if (!h) continue;
        const ids = byThread.get(h.thread);
        if (ids) ids.push(id);
        else byThread.set(h.thread, [id]);
      }
      // A thread that ended meanwhile holds nothing (its successor gets what `held` names): true.
      const answers = await Promise.all([...byThread].map(([thread, ids]) => this.request(thread, 'removeMany', { integrationIds: ids }, true, this.answerMs)));
      for (const id of integrationIds) this.forget(id);
      // As the in-process guardian's removal rejects when its integrations did not stop in time.
      if (answers.includes(false)) throw new Error(`integrations did not stop on their integration thread in time: ${integrationIds.join(', ')}`);
    });
  }

  async replay(integrationId: string, from: ReplayFrom): Promise<ReplayAnswer> {
    // In order after the applies before it; the replay itself is not waited for in the chain.
    let answer: Promise<Answer> = Promise.resolve({ ok: false, error: `integration ${integrationId} does not run on this node` });
    await this.enqueue(async () => {
      const h = this.held.get(integrationId);
      if (!h) return;
      // Its thread is being started again: asked of the new one, after its re-applies.
      await this.current(h.thread);
      answer = this.request(h.thread, 'replay', { integrationId, from }, { ok: false, error: 'its integration thread ended; try again' }, this.answerMs);
    });
    return (await answer) as ReplayAnswer;
  }

  async status(): Promise<IntegrationSnapshot[]> {
    // Asked in order after the applies and removals before it, answered outside the chain, and
    // bounded from the call, as the in-process guardian's query: one still waiting for an earlier
    // removal or move after that long fails as that query does; a thread that was asked and did
    // not answer in time leaves its integrations out, as the guardian does with an app. A thread
    // that ended and is being started again: its integrations (from `held`) as starting.
    let timer: NodeJS.Timeout | undefined;
    const statusMs = this.o.statusMs ?? STATUS_MS;
    const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), statusMs)));
    const asked = this.enqueue(() => this.threads.map((t) => (t.ended ? Promise.resolve(null) : (this.request(t.index, 'status', {}, null) as Promise<IntegrationSnapshot[] | null>))));
    try {
      const perThread = await Promise.race([asked, late]);
      if (!perThread) throw new Error(`integration threads: no status within ${statusMs / 1000} s (an earlier removal or move is still running)`);
      const all = await Promise.all(perThread.map((p) => Promise.race([p, late])));
      return all.flatMap((answer, thread) => {
        if (answer) return answer.map((s) => ({ ...s, thread }));
        if (answer === null && !this.stopping && !this.gaveUp) return this.placeholders(thread, `its integration thread ${thread} ended and is being started again`);
        return [];
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The integrations `held` on a thread being started again, as starting. */
  private placeholders(thread: number, reason: string): IntegrationSnapshot[] {
    const out: IntegrationSnapshot[] = [];
    for (const [integrationId, h] of this.held) {
      if (h.thread !== thread) continue;
      const { app, sink } = h.spec;
      out.push({ integrationId, appKey: app.key, tier: app.size, sinkType: sink.type, status: 'starting', statusReason: reason, checkpoint: undefined, epoch: undefined, source: false, sink: false, sinkParked: false, sinkChecked: false, thread });
    }
    return out;
  }

  flagsChanged(): void {
    void this.enqueue(() => {
      const flags = this.o.flags();
      for (const t of this.threads) this.send(t.index, { op: 'flags', flags });
    });
  }

  /** Drains every thread's integrations, closes their clients and ends the threads. */
  async shutdown(): Promise<void> {
    await this.enqueue(async () => {
      this.stopping = true;
      clearInterval(this.pinger);
      const drained = await Promise.all(this.threads.map((t) => this.request(t.index, 'shutdown', {}, false)));
      const ended = drained.flatMap((ok, thread) => (ok ? [] : [thread]));
      // Their last chunks were not committed: the next owner delivers them again (no loss).
      if (ended.length > 0) this.o.logger.warn({ threads: ended }, 'integration threads ended before their drain finished; their integrations resume from their checkpoints on the next owner');
      await Promise.allSettled(this.threads.map((t) => t.worker.terminate()));
    });
  }

  private enqueue<T>(step: () => T | Promise<T>): Promise<T> {
    const run = this.chain.then(step);
    this.chain = run.catch((err) => this.o.logger.error({ err: errorMessage(err) }, 'integration threads: a step failed'));
    return run;
  }

  private lightest(): number {
    let best = 0;
    for (let i = 1; i < this.weight.length; i++) if (this.weight[i]! < this.weight[best]!) best = i;
    return best;
  }

  private forget(integrationId: string): void {
    const h = this.held.get(integrationId);
    if (!h) return;
    this.held.delete(integrationId);
    this.weight[h.thread]! -= tierWeight[h.spec.app.size];
    const key = h.spec.app.key;
    let others = false;
    for (const x of this.held.values()) if (x.spec.app.key === key) (others = true);
    if (!others) this.appThread.delete(key);
  }

  private send(index: number, m: ToThread): void {
    const t = this.threads[index]!;
    // A thread that ended is started again with everything `held` names: nothing to send now.
    if (!t.ended) t.worker.postMessage(m);
  }

  /**
   * Asks a thread; a thread that ended (or ends before it answers) gives `fallback`. With
   * `deadlineMs`: a thread that has not answered by then is stuck, and is ended (then restarted).
   */
  private request<O extends RequestOp>(index: number, op: O, body: Omit<Extract<Request, { op: O }>, 'op' | 'id'>, fallback: Answer, deadlineMs?: number): Promise<Answer> {
    const t = this.threads[index]!;
    if (t.ended) return Promise.resolve(fallback);
    const id = this.nextId++;
    return new Promise<Answer>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (v: Answer) => {
        clearTimeout(timer);
        resolve(v);
      };
      t.pending.set(id, { resolve: settle, fallback });
      if (deadlineMs !== undefined) {
        timer = setTimeout(() => {
          if (!t.pending.has(id) || t.ended) return;
          this.o.logger.error({ thread: index, op, afterMs: deadlineMs }, 'integration thread did not answer in time; ending it (it is started again with its integrations)');
          t.cause = `did not answer ${op} within ${Math.round(deadlineMs / 1000)} s`;
          void t.worker.terminate();
        }, deadlineMs);
        timer.unref();
      }
      t.worker.postMessage({ op, id, ...body } as ToThread);
    });
  }

  /** Waits while thread `index` is being started again. */
  private async current(index: number): Promise<void> {
    for (;;) {
      const t = this.threads[index]!;
      if (!t.ended || !t.replaced) return;
      await t.replaced;
      if (this.threads[index] === t) return;
    }
  }

  private spawn(index: number): Thread {
    const data: IntegrationThreadData = { ...this.o.data, index, flags: this.o.flags() };
    const worker = startModuleWorker(this.entry, { name: `tributary-integrations-${index}`, workerData: data });
    // The main thread's servers and clients keep the process alive; a thread still draining when
    // the drain deadline passed must not keep it from exiting.
    worker.unref();
    let ready!: () => void;
    let failed!: (err: Error) => void;
    const t: Thread = {
      index,
      worker,
      pending: new Map(),
      ready: new Promise<void>((res, rej) => ((ready = res), (failed = rej))),
      ended: false,
      running: false,
      pinged: false,
    };
    t.ready.catch(() => undefined);
    worker.on('message', (m: FromThread) => {
      switch (m.type) {
        case 'ready':
          t.running = true;
          ready();
          return;
        case 'startFailed':
          failed(new Error(`integration thread ${index} could not start: ${m.message}`));
          void worker.terminate();
          return;
        case 'report':
          this.o.onReport(m.report);
          return;
        case 'answer': {
          const p = t.pending.get(m.id);
          t.pending.delete(m.id);
          p?.resolve(m.value);
          return;
        }
      }
    });
    worker.on('error', (err) => void (t.cause = errorMessage(err)));
    worker.on('exit', (code) => {
      t.ended = true;
      t.cause = `${t.cause ?? 'exited'} (exit code ${code})`;
      failed(new Error(`integration thread ${index} ended before it was ready: ${t.cause}`));
      for (const p of t.pending.values()) p.resolve(p.fallback);
      t.pending.clear();
      if (this.started && !this.stopping) this.ended(t, t.cause);
    });
    return t;
  }

  /** A thread ended unasked: start it again with its integrations, or give up (a node fault). */
  private ended(t: Thread, cause: string): void {
    let replaced!: () => void;
    t.replaced = new Promise<void>((r) => (replaced = r));
    const now = Date.now();
    this.ends.push(now);
    while (this.ends.length > 0 && this.ends[0]! < now - FATAL_WINDOW_MS) this.ends.shift();
    const integrations = [...this.held.values()].filter((h) => h.thread === t.index).length;
    if (this.ends.length >= FATAL_ENDS) {
      this.gaveUp = true;
      this.o.logger.fatal({ thread: t.index, cause, integrations, ends: this.ends.length }, 'integration threads keep ending; giving up');
      this.o.onFatal(`integration threads ended ${this.ends.length} times in ${FATAL_WINDOW_MS / 60_000} minutes (last: thread ${t.index}, ${cause})`);
      replaced();
      return;
    }
    this.o.metrics.count('node.integration_thread_restarts');
    this.o.logger.error({ thread: t.index, cause, integrations }, 'integration thread ended; starting it again with its integrations');
    setTimeout(() => {
      try {
        if (this.stopping || this.gaveUp) return;
        const next = this.spawn(t.index);
        this.threads[t.index] = next;
        // Held now, not when it ended: applies and removals meanwhile changed the list.
        for (const h of this.held.values()) if (h.thread === t.index) next.worker.postMessage({ op: 'apply', spec: h.spec, position: h.position } satisfies ToThread);
        next.ready.catch((err: unknown) => this.o.logger.error({ thread: t.index, err: errorMessage(err) }, 'integration thread could not start again'));
      } catch (err) {
        this.o.onFatal(`integration thread ${t.index} could not be started again: ${errorMessage(err)}`);
      } finally {
        replaced();
      }
    }, this.o.restartDelayMs ?? 1_000).unref();
  }
}
