// Parses busy Connect streams' lines on worker threads, so the event loop that reads Connect,
// produces to Kafka and delivers to sinks spends its time on those instead of on JSON.parse.
//
// Only chunks of many lines come here (`minLines`): a keep-alive or a trickle is parsed where it
// was read, as a message to another thread would cost more than the parse. The reading thread
// keeps the lines' bytes (they go to Kafka as they are) and gets back per event its envelope, a
// few short strings; the parsed trees stay garbage in the parsing thread's heap.
//
// Why not a worker-pool package (piscina): in a scratch measurement on this machine, handing
// 500-line chunks of ~900-byte events to one thread cost the event loop 1.0–1.1 µs per event with
// a bare worker and 1.7 µs through piscina, against 4.7 µs to parse on the event loop
// (BENCHMARKS.md, "Line-parse threads"). The protocol here is one message each way per chunk.
//
// A thread that fails (it crashed, ran out of memory, could not start) costs nothing but time:
// its pending chunks are parsed on the event loop, and the next chunk starts a new thread. After
// three threads in a row fail before answering once, parsing stays on the event loop for good
// (logged once at error): a broken build must not cost a restart per chunk.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../observability/logger.js';
import { classifyLine, type LineClass } from './line-parser.js';
import { decodeClasses, encodeLines, type ParseResponse } from './line-parse-wire.js';

export interface LineParseThreadsOptions {
  /** Worker threads, at most (started when first needed). */
  threads: number;
  /** A chunk with at least this many lines is parsed on a thread; fewer, on the caller's. */
  minLines: number;
  logger?: Logger | undefined;
  /** Tests: the worker's entry file (default: line-parse-thread beside this module). */
  workerUrl?: URL | undefined;
}

export interface LineParseStats {
  /** Lines parsed on a thread. */
  linesOffThread: number;
  /** Lines sent to a thread that failed, parsed on the event loop instead. */
  linesRecovered: number;
  threadsStarted: number;
  threadsFailed: number;
}

/** How the Connect client hands lines off; `LineParseThreads` is the one implementation. */
export interface OffThreadParser {
  readonly minLines: number;
  /** The lines' classes, in order. Never rejects: a failed thread's lines are parsed inline. */
  classify(lines: readonly Buffer[]): Promise<LineClass[]>;
}

interface Pending {
  lines: readonly Buffer[];
  resolve: (classes: LineClass[]) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  answered: boolean;
}

const maxStartFailures = 3;

export class LineParseThreads implements OffThreadParser {
  readonly minLines: number;
  private readonly slots: (Thread | undefined)[];
  private readonly logger: Logger | undefined;
  private readonly workerUrl: URL;
  private nextId = 0;
  private startFailures = 0;
  private disabled = false;
  private closed = false;
  private readonly counts: LineParseStats = { linesOffThread: 0, linesRecovered: 0, threadsStarted: 0, threadsFailed: 0 };

  constructor(o: LineParseThreadsOptions) {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new RangeError(`threads must be a positive integer, got ${o.threads}`);
    if (!Number.isInteger(o.minLines) || o.minLines < 1) throw new RangeError(`minLines must be a positive integer, got ${o.minLines}`);
    this.minLines = o.minLines;
    this.slots = new Array(o.threads).fill(undefined);
    this.logger = o.logger;
    this.workerUrl = o.workerUrl ?? defaultWorkerUrl();
  }

  stats(): LineParseStats {
    return { ...this.counts };
  }

  classify(lines: readonly Buffer[]): Promise<LineClass[]> {
    if (lines.length === 0) return Promise.resolve([]);
    const thread = this.disabled || this.closed ? undefined : this.pick();
    if (!thread) return Promise.resolve(lines.map(classifyLine));
    const id = this.nextId++;
    const req = encodeLines(id, lines);
    return new Promise((resolve) => {
      thread.pending.set(id, { lines, resolve });
      thread.worker.postMessage(req, [req.bytes.buffer as ArrayBuffer]);
      if (thread.pending.size === 1) thread.worker.ref();
    });
  }

  /** Stops the threads; chunks still with them are parsed on the event loop. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (t, i) => {
        if (!t) return;
        this.slots[i] = undefined;
        this.recover(t);
        await t.worker.terminate();
      }),
    );
  }

  /** The thread with the fewest chunks pending, starting one in an empty slot first. */
  private pick(): Thread | undefined {
    let best: Thread | undefined;
    for (let i = 0; i < this.slots.length; i++) {
      let t = this.slots[i];
      if (!t) {
        t = this.start(i);
        if (!t) return undefined;
      }
      if (t.pending.size === 0) return t;
      if (!best || t.pending.size < best.pending.size) best = t;
    }
    return best;
  }

  private start(slot: number): Thread | undefined {
    let worker: Worker;
    try {
      // Run from source (tsx), the .ts entry needs tsx's loader registered in the thread first.
      worker = this.workerUrl.pathname.endsWith('.ts')
        ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(this.workerUrl.href)}); });`, { eval: true, name: 'tributary-line-parse' })
        : new Worker(this.workerUrl, { name: 'tributary-line-parse' });
    } catch (err) {
      this.failed(undefined, slot, err);
      return undefined;
    }
    const t: Thread = { worker, pending: new Map(), answered: false };
    this.counts.threadsStarted++;
    // Only pending chunks keep the process alive (see `classify`).
    worker.unref();
    worker.on('message', (res: ParseResponse) => this.answered(t, res));
    worker.on('error', (err) => this.failed(t, slot, err));
    worker.on('exit', (code) => {
      if (this.slots[slot] === t) this.failed(t, slot, new Error(`line-parse thread exited with code ${code}`));
    });
    this.slots[slot] = t;
    return t;
  }

  private answered(t: Thread, res: ParseResponse): void {
    const p = t.pending.get(res.id);
    if (!p) return;
    t.pending.delete(res.id);
    if (t.pending.size === 0) t.worker.unref();
    t.answered = true;
    this.startFailures = 0;
    let classes: LineClass[];
    try {
      classes = decodeClasses(res);
      if (classes.length !== p.lines.length) throw new TypeError(`line-parse response has ${classes.length} lines for ${p.lines.length}`);
    } catch (err) {
      this.logger?.error({ err }, 'line-parse thread answered badly; parsing that chunk on the event loop');
      this.counts.linesRecovered += p.lines.length;
      p.resolve(p.lines.map(classifyLine));
      return;
    }
    this.counts.linesOffThread += classes.length;
    p.resolve(classes);
  }

  private failed(t: Thread | undefined, slot: number, err: unknown): void {
    if (t) {
      if (this.slots[slot] !== t) return;
      this.slots[slot] = undefined;
      this.recover(t);
      void t.worker.terminate();
    }
    if (this.closed) return;
    this.counts.threadsFailed++;
    if (!t?.answered && ++this.startFailures >= maxStartFailures) {
      this.disabled = true;
      this.logger?.error({ err }, `${maxStartFailures} line-parse threads failed before answering; parsing Connect lines on the event loop from now on`);
      return;
    }
    this.logger?.warn({ err }, 'line-parse thread failed; its chunks are parsed on the event loop and the next chunk starts a new thread');
  }

  /** Parses what `t` still held on this thread. */
  private recover(t: Thread): void {
    for (const p of t.pending.values()) {
      this.counts.linesRecovered += p.lines.length;
      p.resolve(p.lines.map(classifyLine));
    }
    t.pending.clear();
  }
}

function defaultWorkerUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./line-parse-thread${ext}`, import.meta.url);
}
