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
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../../node/module-worker.js';
import type { Logger } from '../../observability/logger.js';
import { classifyLine, type LineClass } from './line-parser.js';
import { decodeClasses, decodeItems, encodeLines, type ParseResponse, type StreamRequest, type StreamResponse } from './line-parse-wire.js';
import type { SplitItem } from './line-splitter.js';

export interface LineParseThreadsOptions {
  /** Worker threads, at most (started when first needed). */
  threads: number;
  /** A chunk with at least this many lines is parsed on a thread; fewer, on the caller's. */
  minLines: number;
  /**
   * A gzip stream whose first network chunk has at least this many bytes is inflated and framed
   * on a thread too (`openStream`); 0: never. Default 16 KiB: a busy stream's first read.
   */
  inflateMinBytes?: number | undefined;
  logger?: Logger | undefined;
  /** Tests: the worker's entry file (default: line-parse-thread beside this module). */
  workerUrl?: URL | undefined;
}

export interface LineParseStats {
  /** Lines parsed on a thread. */
  linesOffThread: number;
  /** Lines sent to a thread that failed, parsed on the event loop instead. */
  linesRecovered: number;
  /** Streams inflated on a thread (`openStream`). */
  streamsOffThread: number;
  /** Streams lost with a thread that failed (each ended its session; the client reconnects). */
  streamsLost: number;
  threadsStarted: number;
  threadsFailed: number;
}

/** How the Connect client hands lines off; `LineParseThreads` is the one implementation. */
export interface OffThreadParser {
  readonly minLines: number;
  /** The lines' classes, in order. Never rejects: a failed thread's lines are parsed inline. */
  classify(lines: readonly Buffer[]): Promise<LineClass[]>;
  /** See `LineParseThreadsOptions.inflateMinBytes`; absent (with `openStream`): every stream inflates on the event loop. */
  readonly inflateMinBytes?: number;
  /** A gzip stream decoded on one thread from its first byte; undefined when no thread is to be had. */
  openStream?(framing: StreamFraming): RemoteStream | undefined;
}

export interface StreamFraming {
  chunkBytes: number;
  maxLineBytes: number;
  headBytes: number;
}

/** What a thread made of some of a stream's bytes. */
export interface DecodedChunk {
  /** Framed items in stream order; lines are slices of one buffer. */
  items: SplitItem[];
  /** The classes of the items that are lines, in order. */
  classes: LineClass[];
  decompressed: number;
  /** Part of a line is held (a close now would drop it). */
  partial: boolean;
  /** zlib's error, with its `code`: the items before it stand, nothing after it is decoded. */
  failure: Error | undefined;
}

/**
 * A gzip stream inflated, framed and classified on one thread. Its state lives there: a thread
 * that fails takes the stream with it, and every request on it rejects (the session ends and the
 * client reads again from its confirmed offset).
 */
export interface RemoteStream {
  write(bytes: Uint8Array): Promise<DecodedChunk>;
  /** The body ended: the last items, and a failure if the gzip member was not whole. */
  end(): Promise<DecodedChunk>;
  /** Forgets the stream on its thread (no answer). */
  close(): void;
}

interface Pending {
  lines: readonly Buffer[];
  resolve: (classes: LineClass[]) => void;
}

interface StreamPending {
  resolve: (chunk: DecodedChunk) => void;
  reject: (err: Error) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  streams: Map<number, StreamPending>;
  /** Streams opened on it and not closed yet: what its failure takes with it. */
  open: Set<number>;
  answered: boolean;
  /** Set once it failed: its streams are gone. */
  dead: boolean;
}

const maxStartFailures = 3;

export class LineParseThreads implements OffThreadParser {
  readonly minLines: number;
  readonly inflateMinBytes: number;
  private readonly slots: (Thread | undefined)[];
  private readonly logger: Logger | undefined;
  private readonly workerUrl: URL;
  private nextId = 0;
  private nextStream = 0;
  private startFailures = 0;
  private disabled = false;
  private closed = false;
  private readonly counts: LineParseStats = { linesOffThread: 0, linesRecovered: 0, streamsOffThread: 0, streamsLost: 0, threadsStarted: 0, threadsFailed: 0 };

  constructor(o: LineParseThreadsOptions) {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new RangeError(`threads must be a positive integer, got ${o.threads}`);
    if (!Number.isInteger(o.minLines) || o.minLines < 1) throw new RangeError(`minLines must be a positive integer, got ${o.minLines}`);
    this.minLines = o.minLines;
    const inflateMinBytes = o.inflateMinBytes ?? 16 * 1024;
    if (!Number.isInteger(inflateMinBytes) || inflateMinBytes < 0) throw new RangeError(`inflateMinBytes must be a non-negative integer, got ${inflateMinBytes}`);
    this.inflateMinBytes = inflateMinBytes;
    this.slots = new Array(o.threads).fill(undefined);
    this.logger = o.logger;
    this.workerUrl = o.workerUrl ?? defaultWorkerUrl();
  }

  stats(): LineParseStats {
    return { ...this.counts };
  }

  classify(lines: readonly Buffer[]): Promise<LineClass[]> {
    if (lines.length === 0) return Promise.resolve([]);
    const thread = this.available();
    if (!thread) return Promise.resolve(lines.map(classifyLine));
    const id = this.nextId++;
    const req = encodeLines(id, lines);
    return new Promise((resolve) => {
      thread.pending.set(id, { lines, resolve });
      thread.worker.postMessage(req, [req.bytes.buffer as ArrayBuffer]);
      this.busy(thread);
    });
  }

  openStream(framing: StreamFraming): RemoteStream | undefined {
    if (this.inflateMinBytes === 0) return undefined;
    const thread = this.available();
    if (!thread) return undefined;
    this.counts.streamsOffThread++;
    const stream = this.nextStream++;
    thread.open.add(stream);
    let first = true;
    const request = (op: 'data' | 'end', bytes?: Uint8Array): Promise<DecodedChunk> => {
      if (thread.dead) return Promise.reject(new Error('the line-parse thread decoding this stream failed'));
      const id = this.nextId++;
      const req: StreamRequest = { kind: 'stream', id, stream, op, ...(bytes ? { bytes } : {}), ...(first ? { framing } : {}) };
      first = false;
      return new Promise<DecodedChunk>((resolve, reject) => {
        thread.streams.set(id, { resolve, reject });
        thread.worker.postMessage(req, bytes ? [bytes.buffer as ArrayBuffer] : []);
        this.busy(thread);
      });
    };
    return {
      // Its own ArrayBuffer (never a pool slice of the socket's), so it can be transferred whole.
      write: (bytes) => request('data', new Uint8Array(bytes)),
      end: () => request('end'),
      close: () => {
        thread.open.delete(stream);
        if (!thread.dead && !first) thread.worker.postMessage({ kind: 'stream', id: this.nextId++, stream, op: 'close' } satisfies StreamRequest);
      },
    };
  }

  /** A thread to send work to (starting one if a slot is empty); undefined once threads are off. */
  private available(): Thread | undefined {
    return this.disabled || this.closed ? undefined : this.pick();
  }

  /** A thread with requests out keeps the process alive; an idle one does not. */
  private busy(t: Thread): void {
    if (t.pending.size + t.streams.size === 1) t.worker.ref();
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
      worker = startModuleWorker(this.workerUrl, { name: 'tributary-line-parse' });
    } catch (err) {
      this.failed(undefined, slot, err);
      return undefined;
    }
    const t: Thread = { worker, pending: new Map(), streams: new Map(), open: new Set(), answered: false, dead: false };
    this.counts.threadsStarted++;
    // Only pending chunks keep the process alive (see `classify`).
    worker.unref();
    worker.on('message', (res: ParseResponse | StreamResponse) => ('kind' in res && res.kind === 'stream' ? this.decoded(t, res) : this.answered(t, res)));
    worker.on('error', (err) => this.failed(t, slot, err));
    worker.on('exit', (code) => {
      if (this.slots[slot] === t) this.failed(t, slot, new Error(`line-parse thread exited with code ${code}`));
    });
    this.slots[slot] = t;
    return t;
  }

  private idle(t: Thread): void {
    if (t.pending.size + t.streams.size === 0) t.worker.unref();
  }

  /** The request `id` that `t` answered, taken off `waiting`; the thread is known to work. */
  private take<P>(t: Thread, waiting: Map<number, P>, id: number): P | undefined {
    const p = waiting.get(id);
    if (!p) return undefined;
    waiting.delete(id);
    this.idle(t);
    t.answered = true;
    this.startFailures = 0;
    return p;
  }

  private decoded(t: Thread, res: StreamResponse): void {
    const p = this.take(t, t.streams, res.id);
    if (!p) return;
    let chunk: DecodedChunk;
    try {
      const items = decodeItems(res);
      const classes = decodeClasses(res);
      const lines = items.reduce((n, item) => n + (item.kind === 'line' ? 1 : 0), 0);
      if (classes.length !== lines) throw new TypeError(`stream response has ${classes.length} classes for ${lines} lines`);
      const failure = res.failure ? Object.assign(new Error(res.failure.message), res.failure.code === undefined ? {} : { code: res.failure.code }) : undefined;
      chunk = { items, classes, decompressed: res.decompressed, partial: res.partial, failure };
    } catch (err) {
      this.logger?.error({ err }, 'line-parse thread answered a stream badly; the session ends and reads again');
      p.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.counts.linesOffThread += chunk.classes.length;
    p.resolve(chunk);
  }

  private answered(t: Thread, res: ParseResponse): void {
    const p = this.take(t, t.pending, res.id);
    if (!p) return;
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

  /** Parses what `t` still held on this thread; its streams' requests fail (their state was there). */
  private recover(t: Thread): void {
    t.dead = true;
    for (const p of t.pending.values()) {
      this.counts.linesRecovered += p.lines.length;
      p.resolve(p.lines.map(classifyLine));
    }
    t.pending.clear();
    this.counts.streamsLost += t.open.size;
    t.open.clear();
    for (const p of t.streams.values()) p.reject(new Error('the line-parse thread decoding this stream failed'));
    t.streams.clear();
  }
}

function defaultWorkerUrl(): URL {
  return siblingModule('line-parse-thread', import.meta.url);
}
