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
// integration arrives as the thread with the least weight (a large app weighs 100 small ones, a
// medium app 10) and kept while the app has integrations on the node.
//
// A thread that ends unasked (a crash, out of memory) is started again after a second and given
// its integrations again, which resume from their checkpoints like any restarted integration;
// pending requests to it are answered as failed. Three such ends within five minutes are a node
// fault (`onFatal`): the orchestrator replaces the node.
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
}

type Answer = IntegrationSnapshot[] | ReplayAnswer | boolean;
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
}

interface Held {
  spec: IntegrationSpec;
  position: string | undefined;
  thread: number;
}

const tierWeight: Record<Tier, number> = { small: 1, medium: 10, large: 100 };
const STATUS_MS = 20_000;
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

  constructor(private readonly o: IntegrationThreadsOptions) {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new RangeError(`integration threads: ${o.threads} (at least 1)`);
    this.weight = new Array<number>(o.threads).fill(0);
    this.entry = o.entry ?? siblingModule('integration-thread', import.meta.url);
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
        // The integration moved to an app on another thread: stop it where it ran first.
        await this.request(prev.thread, 'removeMany', { integrationIds: [spec.id] }, false);
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
      await Promise.all([...byThread].map(([thread, ids]) => this.request(thread, 'removeMany', { integrationIds: ids }, false)));
      for (const id of integrationIds) this.forget(id);
    });
  }

  async replay(integrationId: string, from: ReplayFrom): Promise<ReplayAnswer> {
    // In order after the applies before it; the replay itself is not waited for in the chain.
    let answer: Promise<Answer> = Promise.resolve({ ok: false, error: `integration ${integrationId} does not run on this node` });
    await this.enqueue(() => {
      const h = this.held.get(integrationId);
      if (h) answer = this.request(h.thread, 'replay', { integrationId, from }, { ok: false, error: 'its integration thread ended; try again' });
    });
    return (await answer) as ReplayAnswer;
  }

  async status(): Promise<IntegrationSnapshot[]> {
    // Asked in order after the applies and removals before it, answered outside the chain.
    let asked: Promise<Answer>[] = [];
    await this.enqueue(() => {
      asked = this.threads.map((t) => this.request(t.index, 'status', {}, []));
    });
    const all = await Promise.all(
      asked.map(async (a, thread) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<Answer>((r) => (timer = setTimeout(() => r([]), STATUS_MS)));
        const answer = (await Promise.race([a, late]).finally(() => clearTimeout(timer))) as IntegrationSnapshot[];
        return answer.map((s) => ({ ...s, thread }));
      }),
    );
    return all.flat();
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
      await Promise.all(this.threads.map((t) => this.request(t.index, 'shutdown', {}, true)));
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

  private request<O extends RequestOp>(index: number, op: O, body: Omit<Extract<Request, { op: O }>, 'op' | 'id'>, fallback: Answer): Promise<Answer> {
    const t = this.threads[index]!;
    if (t.ended) return Promise.resolve(fallback);
    const id = this.nextId++;
    return new Promise<Answer>((resolve) => {
      t.pending.set(id, { resolve, fallback });
      t.worker.postMessage({ op, id, ...body } as ToThread);
    });
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
    };
    t.ready.catch(() => undefined);
    worker.on('message', (m: FromThread) => {
      switch (m.type) {
        case 'ready':
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
    let cause = 'exited';
    worker.on('error', (err) => void (cause = errorMessage(err)));
    worker.on('exit', (code) => {
      t.ended = true;
      failed(new Error(`integration thread ${index} ended before it was ready: ${cause} (exit code ${code})`));
      for (const p of t.pending.values()) p.resolve(p.fallback);
      t.pending.clear();
      if (this.started && !this.stopping) this.ended(t, `${cause} (exit code ${code})`);
    });
    return t;
  }

  /** A thread ended unasked: start it again with its integrations, or give up (a node fault). */
  private ended(t: Thread, cause: string): void {
    const now = Date.now();
    this.ends.push(now);
    while (this.ends.length > 0 && this.ends[0]! < now - FATAL_WINDOW_MS) this.ends.shift();
    const integrations = [...this.held.values()].filter((h) => h.thread === t.index).length;
    this.o.metrics.count('node.integration_thread_restarts');
    if (this.ends.length >= FATAL_ENDS) {
      this.o.logger.fatal({ thread: t.index, cause, integrations, ends: this.ends.length }, 'integration threads keep ending; giving up');
      this.o.onFatal(`integration threads ended ${this.ends.length} times in ${FATAL_WINDOW_MS / 60_000} minutes (last: thread ${t.index}, ${cause})`);
      return;
    }
    this.o.logger.error({ thread: t.index, cause, integrations }, 'integration thread ended; starting it again with its integrations');
    setTimeout(() => {
      if (this.stopping) return;
      let next: Thread;
      try {
        next = this.spawn(t.index);
      } catch (err) {
        this.o.onFatal(`integration thread ${t.index} could not be started again: ${errorMessage(err)}`);
        return;
      }
      this.threads[t.index] = next;
      // Held now, not when it ended: applies and removals meanwhile changed the list.
      for (const h of this.held.values()) if (h.thread === t.index) next.worker.postMessage({ op: 'apply', spec: h.spec, position: h.position } satisfies ToThread);
      next.ready.catch((err: unknown) => this.o.logger.error({ thread: t.index, err: errorMessage(err) }, 'integration thread could not start again'));
    }, this.o.restartDelayMs ?? 1_000).unref();
  }
}
