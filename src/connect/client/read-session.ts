// Reads one 200 response: gunzip (on the event loop, or on a parse thread) → bounded splitter →
// parser. The body flows only while the caller waits for items, so a slow caller stops the socket
// reads. Ends cleanly on EOF; throws a transient error for anything else.
//
// Driven by the body's 'data' events, not by async iteration: a keep-alive line (one per idle
// stream per second or so, a thousand streams on a node) is inflated, framed and counted inside
// the socket's read callback, with no promise, generator step or timer of its own. Promises are
// made only when items are handed out.
//
// With a line parser on other threads (`SessionContext.parser`), a chunk of many lines is parsed
// there while this thread goes on with other work. Up to `maxParseJobs` chunks are out at once
// (one at a time would leave the stream waiting on a thread the busy machine has not scheduled
// yet); their items are taken in stream order, and any chunk behind them waits its turn.
// A gzip stream that starts busy (its first network chunk at least the parser's
// `inflateMinBytes`) goes further: its gunzip and splitter run on the thread too, and its jobs
// bring back the lines themselves (`sendRemote`).
import { Readable } from 'node:stream';
import { ErrorCode, TributaryError } from '../../errors.js';
import type { ConnectClientCounters } from './counters.js';
import { Gunzipper, maxInputSlice } from './inflate.js';
import { classifyLine, lineItem, parseLine, type LineClass, type ParsedLine } from './line-parser.js';
import type { OffThreadParser, RemoteStream } from './line-parse-threads.js';
import { LineSplitter, type SplitItem } from './line-splitter.js';
import type { TransportResponse } from './http-transport.js';
import type { EventItem, OffsetUpdateItem, PoisonItem } from './stream-item.js';
import { corruptStream, streamError } from './stream-errors.js';

export type SessionItem = EventItem | OffsetUpdateItem | PoisonItem;

export interface SessionOptions {
  maxLineBytes: number;
  poisonHeadBytes: number;
  poisonRawBytes: number;
  maxConsecutiveBadLines: number;
  idleTimeoutMs: number;
  chunkBytes: number;
}

export interface SessionContext {
  counters: ConnectClientCounters;
  /** The last good event offset seen (any connection): the poison records' offset context. */
  lastSeenOffset: string | undefined;
  /** Parses chunks of many lines on other threads; absent: every line is parsed here. */
  parser?: OffThreadParser | undefined;
}

/**
 * Yields the items decoded from the body, a network chunk (or a gunzip input slice of one) at a
 * time; the next bytes are read only when the caller asks for more, which is the backpressure path.
 */
export async function* readSession(
  res: Extract<TransportResponse, { kind: 'stream' }>,
  options: SessionOptions,
  ctx: SessionContext,
  signal: AbortSignal,
): AsyncGenerator<SessionItem[], void, undefined> {
  const reader = new SessionReader(res, options, ctx, signal);
  try {
    for (;;) {
      const items = await reader.next();
      if (items === undefined) return;
      yield items;
    }
  } finally {
    reader.close();
  }
}

/** Chunks parsed elsewhere (or queued behind one) at most, per session: bounds its memory. */
const maxParseJobs = 4;

/**
 * With a parser, the lines of a network chunk's slices are gathered up to this many decompressed
 * bytes and sent as one message rather than one per 16 KiB slice (~50 events of 1 KB): each
 * message has a fixed cost on the event loop (`npm run bench:line-parse`, BENCHMARKS.md
 * "Line-parse threads").
 */
const gatherMaxBytes = 256 * 1024;

/** A chunk's framed lines, waiting for their classes (or, on a remote stream, for both). */
interface ParseJob {
  framed: SplitItem[];
  classes: LineClass[] | undefined;
  /** A remote stream's: zlib's error after these lines, or the thread's failure. */
  failure?: unknown;
}

interface Waiter {
  resolve: (items: SessionItem[] | undefined) => void;
  reject: (err: TributaryError) => void;
}

class SessionReader {
  private readonly source: Readable;
  private readonly gunzip: Gunzipper | undefined;
  /**
   * A busy gzip stream inflated, framed and parsed on a parse thread from its first bytes
   * (`OffThreadParser.openStream`, decided by the size of the first network chunk); its jobs carry
   * their lines back. Undefined: everything before the parse happens here.
   */
  private remote: RemoteStream | undefined;
  private decided = false;
  /** The remote splitter held part of a line at its last answer. */
  private remotePartial = false;
  private readonly splitter: LineSplitter;
  private readonly counters: ConnectClientCounters;
  /** Items decoded and not yet handed out. */
  private ready: SessionItem[] = [];
  /** A network chunk whose remaining slices wait for the caller's next pull. */
  private input: Buffer | undefined;
  private inputAt = 0;
  private waiter: Waiter | undefined;
  /** Set once: thrown after the items decoded before it are handed out. */
  private failure: TributaryError | undefined;
  /** The body ended ('end' comes once its last chunk is taken, even with part of it not inflated yet). */
  private sourceEnded = false;
  /** The end is processed: every byte inflated, the gzip member checked. */
  private ended = false;
  /** The gzip member's end was checked (it may be followed by a chunk parsed elsewhere). */
  private gunzipEnded = false;
  /** Chunks whose lines are parsed on other threads, in stream order; items come from the head only. */
  private readonly jobs: ParseJob[] = [];
  /** Lines framed and not yet parsed or sent (see `gatherMaxBytes`). */
  private gathered: SplitItem[] = [];
  private gatheredBytes = 0;
  /** The stream failed while chunks were out: it ends the session once their items are in. */
  private pendingFailure: TributaryError | undefined;
  private closed = false;
  private badInRow = 0;
  // Time spent *waiting for the network* since the last complete line. Time the caller spends
  // holding items is not idleness: under backpressure we are simply not reading. The timer is not
  // touched per line; when it fires it re-arms for whatever idle time is left.
  private idleMs = 0;
  private waitingSince: number | undefined;
  /** Since when chunks are out on a parse thread: waiting on a thread is not waiting on the network. */
  private jobsOutSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort: () => void;

  constructor(
    res: Extract<TransportResponse, { kind: 'stream' }>,
    private readonly options: SessionOptions,
    private readonly ctx: SessionContext,
    private readonly signal: AbortSignal,
  ) {
    this.counters = ctx.counters;
    this.source = res.body instanceof Readable ? res.body : Readable.from(res.body, { objectMode: false });
    this.gunzip = res.gzip ? new Gunzipper(options.chunkBytes) : undefined;
    this.splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes, headBytes: options.poisonHeadBytes });
    // Paused before the 'data' listener, which would otherwise start the flow at once.
    this.source.pause();
    this.source.on('data', (chunk: Uint8Array) => this.onData(chunk));
    this.source.on('end', () => this.onEnd());
    this.source.on('error', (err: unknown) => this.fail(streamError(err)));
    this.source.on('close', () => {
      if (!this.sourceEnded) this.fail(streamError(Object.assign(new Error('Connect stream closed before its end'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })));
    });
    this.onAbort = () => this.fail(streamError(signal.reason instanceof Error ? signal.reason : new Error('aborted')), true);
    signal.addEventListener('abort', this.onAbort, { once: true });
    if (signal.aborted) this.onAbort();
  }

  /** The next items; `undefined` at the end of the body. Rejects with the error that ended it. */
  next(): Promise<SessionItem[] | undefined> {
    // The rest of a chunk cut short for the previous pull comes before the network.
    if (!this.jobsFull() && this.ready.length === 0 && this.input !== undefined && this.failure === undefined) this.inflateInput();
    if (this.jobs.length === 0 && this.ready.length === 0 && this.input === undefined && this.sourceEnded && !this.ended) this.finish();
    if (this.ready.length > 0) return Promise.resolve(this.take());
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.waitingSince = performance.now();
      this.timer ??= setTimeout(() => this.checkIdle(), Math.max(1, this.options.idleTimeoutMs - this.idleMs));
      // With every parse slot taken, what comes next is their items, not the network.
      if (!this.jobsFull() && this.pendingFailure === undefined) this.source.resume();
    });
  }

  /** Leaves: a partial line at the end (EOF, error, or the caller leaving) is never parsed (S1). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    clearTimeout(this.timer);
    if (this.remote ? this.remotePartial : this.splitter.end() > 0) this.counters.partialTailsDiscarded++;
    // Without the error: an 'error' event on a body would be an uncaught exception.
    this.source.destroy();
    this.gunzip?.close();
    this.remote?.close();
  }

  private onData(chunk: Uint8Array): void {
    if (this.failure !== undefined || this.closed) return;
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.counters.bytesReceived += buf.length;
    if (!this.decided) this.decide(buf);
    if (this.remote) {
      this.sendRemote(buf);
      return;
    }
    // The body flows only once a cut-short chunk is used up; should bytes come early anyway, they
    // queue behind it rather than replace it.
    this.input = this.input === undefined ? buf : Buffer.concat([this.input.subarray(this.inputAt), buf]);
    this.inputAt = 0;
    if (this.jobsFull()) {
      this.source.pause();
      return;
    }
    this.inflateInput();
    this.settle();
  }

  /** At the first bytes: a gzip stream that starts busy is decoded on a parse thread for good. */
  private decide(first: Buffer): void {
    this.decided = true;
    const parser = this.ctx.parser;
    if (!this.gunzip || !parser?.openStream || !parser.inflateMinBytes || first.length < parser.inflateMinBytes) return;
    this.remote = parser.openStream({ chunkBytes: this.options.chunkBytes, maxLineBytes: this.options.maxLineBytes, headBytes: this.options.poisonHeadBytes });
  }

  /** Sends compressed bytes (or the end) to the remote stream as a job; its items are taken in order. */
  private sendRemote(bytes: Buffer | undefined): void {
    const job: ParseJob = { framed: [], classes: undefined };
    this.pushJob(job);
    const remote = this.remote!;
    (bytes ? remote.write(bytes) : remote.end()).then(
      (d) => {
        this.counters.bytesDecompressed += d.decompressed;
        this.remotePartial = d.partial;
        job.framed = d.items;
        job.failure = d.failure;
        job.classes = d.classes;
        if (d.items.length > 0) {
          // Complete lines: the connection is not idle.
          this.idleMs = 0;
          if (this.waitingSince !== undefined) this.waitingSince = performance.now();
        }
        this.drainJobs();
      },
      (err: unknown) => {
        job.failure = err;
        job.classes = [];
        this.drainJobs();
      },
    );
    if (this.jobsFull()) this.source.pause();
  }

  private onEnd(): void {
    this.sourceEnded = true;
    if (this.remote) {
      // The remote gunzip checks the member is whole; its answer comes after the data's.
      if (this.failure === undefined && !this.closed) this.sendRemote(undefined);
      return;
    }
    // A chunk cut short for the caller is inflated first; its next pull finishes.
    if (this.input === undefined && this.jobs.length === 0) this.finish();
  }

  private finish(): void {
    if (this.failure !== undefined || this.closed) return;
    // Finishing checks the gzip member is whole: a body cut before its trailer fails here.
    if (this.gunzip && !this.gunzipEnded && !this.remote) {
      this.gunzipEnded = true;
      this.decoded(this.gunzip.end());
      this.handOff();
      if (this.gunzip.failure !== undefined) this.fail(streamError(this.gunzip.failure));
    }
    // Lines held behind chunks on a thread (`mayHold`) go now.
    this.handOff();
    // The last lines went to another thread: their items come first, then the end (`drainJobs`).
    if (this.jobs.length > 0) return;
    this.ended = true;
    this.settle();
  }

  /**
   * Inflates the pending network chunk a slice at a time, stopping after the first slice that
   * completes items: memory stays bounded by one slice's output, and the rest waits for the pull.
   * With a parser, slices' lines are gathered up to `gatherMaxBytes` first, and it stops once
   * `maxParseJobs` chunks are out.
   */
  private inflateInput(): void {
    const input = this.input!;
    const gather = this.ctx.parser !== undefined;
    while (this.inputAt < input.length && this.failure === undefined) {
      if (!this.gunzip) {
        this.inputAt = input.length;
        this.decoded([input]);
        break;
      }
      const end = Math.min(input.length, this.inputAt + maxInputSlice);
      const outs = this.gunzip.write(input.subarray(this.inputAt, end));
      this.inputAt = end;
      this.decoded(outs);
      if (this.gunzip.failure !== undefined) {
        this.handOff();
        this.fail(streamError(this.gunzip.failure));
        break;
      }
      if (gather && this.gatheredBytes < gatherMaxBytes) continue;
      this.handOff();
      if (this.ready.length > 0 || this.jobsFull()) break;
    }
    if (!this.mayHold()) this.handOff();
    if (this.inputAt >= input.length) this.input = undefined;
  }

  /**
   * With chunks out on a parse thread, a network chunk's last few lines wait to be gathered with
   * the next chunk's: their items come after those chunks' anyway, and alone they would be parsed
   * here or cost a message of their own. They go once the chunks are in (`drainJobs`), at the end
   * of the body (`finish`), or once `gatherMaxBytes` are gathered.
   */
  private mayHold(): boolean {
    return this.ctx.parser !== undefined && this.jobs.length > 0 && this.gatheredBytes < gatherMaxBytes && !this.sourceEnded;
  }

  /** Frames decompressed chunks into `gathered`. */
  private decoded(chunks: Buffer[]): void {
    for (const value of chunks) {
      // The lines handed out are slices of this chunk, never copied one by one. A chunk that
      // fills at least a quarter of the buffer behind it (busy streams) is used in place: a copy
      // would only add allocation and GC work. A small one (trickles, keep-alives) is copied, so
      // an event held later never pins gunzip's mostly empty 64 KiB output buffer.
      const chunk = value.length * 4 >= value.buffer.byteLength ? value : Buffer.from(value);
      this.counters.bytesDecompressed += chunk.length;
      const lines = this.splitter.push(chunk);
      if (lines.length === 0) continue;
      for (const line of lines) this.gathered.push(line);
      this.gatheredBytes += chunk.length;
    }
  }

  /** The gathered lines: parsed here, or sent to the parser's threads when many (or behind others). */
  private handOff(): void {
    if (this.gathered.length === 0 || this.failure !== undefined) return;
    const framed = this.gathered;
    this.gathered = [];
    this.gatheredBytes = 0;
    this.idleMs = 0;
    if (this.waitingSince !== undefined) this.waitingSince = performance.now();
    const parser = this.ctx.parser;
    if (parser !== undefined && (framed.length >= parser.minLines || this.jobs.length > 0)) {
      this.queueParse(parser, framed);
      return;
    }
    for (const f of framed) if (!this.accept(parseLine(f, this.ctx.lastSeenOffset, this.options.poisonRawBytes))) return;
  }

  /**
   * Sends the lines of `framed` to the parser's threads (a short chunk behind others is parsed
   * here, and waits its turn). A stream failure meanwhile waits for their items (`fail`); the
   * caller leaving or K bad lines drop them: none was handed out, so none was confirmed, and the
   * next connection reads them again.
   */
  private queueParse(parser: OffThreadParser, framed: SplitItem[]): void {
    const job: ParseJob = { framed, classes: undefined };
    this.pushJob(job);
    const lines: Buffer[] = [];
    for (const f of framed) if (f.kind === 'line') lines.push(f.bytes);
    if (framed.length < parser.minLines) {
      job.classes = lines.map(classifyLine);
      return;
    }
    // `classify` never rejects (a failed thread's lines are parsed on the event loop); were it to,
    // the lines are parsed here all the same.
    parser.classify(lines).then(
      (classes) => {
        job.classes = classes;
        this.drainJobs();
      },
      () => {
        job.classes = lines.map(classifyLine);
        this.drainJobs();
      },
    );
  }

  private pushJob(job: ParseJob): void {
    if (this.jobs.length === 0) this.jobsOutSince = performance.now();
    this.jobs.push(job);
  }

  /** No chunk is out any more: the time they were out is taken off the wait for the network. */
  private jobsDone(): void {
    if (this.jobsOutSince === undefined) return;
    const now = performance.now();
    if (this.waitingSince !== undefined) this.waitingSince += now - Math.max(this.waitingSince, this.jobsOutSince);
    this.jobsOutSince = undefined;
  }

  /** Time waited on the network since `waitingSince`, leaving out the time chunks are out now. */
  private waitedSince(now: number): number {
    const out = this.jobsOutSince === undefined ? 0 : now - Math.max(this.waitingSince!, this.jobsOutSince);
    return now - this.waitingSince! - out;
  }

  private jobsFull(): boolean {
    return this.jobs.length >= maxParseJobs;
  }

  /** Takes the items of the parsed chunks at the head, then goes on: the input that waited, the end, or the network. */
  private drainJobs(): void {
    if (this.closed || this.failure !== undefined) return;
    while (this.jobs.length > 0 && this.jobs[0]!.classes !== undefined) {
      const { framed, classes, failure } = this.jobs.shift()!;
      let k = 0;
      for (const f of framed) {
        const parsed = f.kind === 'line' ? lineItem(classes![k++]!, f.bytes, this.ctx.lastSeenOffset, this.options.poisonRawBytes) : parseLine(f, this.ctx.lastSeenOffset, this.options.poisonRawBytes);
        if (!this.accept(parsed)) return;
      }
      if (this.jobs.length === 0) this.jobsDone();
      if (failure !== undefined) {
        // The items decoded before it stand; nothing after it was decoded.
        this.fail(streamError(failure), true);
        return;
      }
    }
    // Lines held behind the chunks just taken (`mayHold`), unless more input joins them first.
    if (this.jobs.length === 0 && this.input === undefined) this.handOff();
    if (this.pendingFailure !== undefined) {
      if (this.jobs.length === 0) this.fail(this.pendingFailure);
      else this.settle();
      return;
    }
    if (!this.jobsFull() && this.ready.length === 0 && this.input !== undefined) this.inflateInput();
    if (this.jobs.length === 0 && this.input === undefined && this.sourceEnded && !this.ended) {
      this.finish();
      return;
    }
    this.settle();
    if (this.waiter !== undefined && !this.jobsFull() && this.input === undefined) this.source.resume();
  }

  /** Takes one parsed line; false once it failed the session (too many bad lines in a row). */
  private accept(parsed: ParsedLine): boolean {
    this.counters.lines++;
    switch (parsed.kind) {
      case 'keepAlive':
        this.counters.keepAlives++;
        break;
      case 'offsetUpdate':
        this.counters.offsetUpdates++;
        this.badInRow = 0;
        this.ready.push(parsed);
        break;
      case 'event':
        this.badInRow = 0;
        this.ctx.lastSeenOffset = parsed.offset;
        this.ready.push(parsed);
        break;
      case 'poison':
        this.counters.poison++;
        if (parsed.code === ErrorCode.poisonOversizedLine) this.counters.oversizedLines++;
        this.ready.push(parsed);
        // Corrupt bytes can decode to garbage lines before zlib notices (S2): after K in a
        // row, stop trusting this connection and resume from the last confirmed offset.
        if (++this.badInRow >= this.options.maxConsecutiveBadLines) {
          this.fail(corruptStream('bad_lines', `${this.badInRow} consecutive bad lines from Connect`), true);
          return false;
        }
        break;
    }
    return true;
  }

  /** Hands out what is ready (or the end, or the failure) to a waiting caller, and stops reading. */
  private settle(): void {
    const waiter = this.waiter;
    if (!waiter) {
      if (this.ready.length > 0) this.source.pause();
      return;
    }
    if (this.ready.length > 0) {
      this.stopWaiting();
      waiter.resolve(this.take());
    } else if (this.failure !== undefined) {
      this.stopWaiting();
      waiter.reject(this.failure);
    } else if (this.ended) {
      this.stopWaiting();
      waiter.resolve(undefined);
    }
  }

  private stopWaiting(): void {
    this.waiter = undefined;
    if (this.waitingSince !== undefined) this.idleMs += this.waitedSince(performance.now());
    this.waitingSince = undefined;
    if (!this.closed && this.failure === undefined && !this.ended) this.source.pause();
  }

  private take(): SessionItem[] {
    const items = this.ready;
    this.ready = [];
    return items;
  }

  private checkIdle(): void {
    this.timer = undefined;
    if (this.waitingSince === undefined || this.closed) return;
    const idle = this.idleMs + this.waitedSince(performance.now());
    if (idle >= this.options.idleTimeoutMs) {
      this.fail(new TributaryError(ErrorCode.connectIdleTimeout, `no complete line or keep-alive from Connect for ${this.options.idleTimeoutMs} ms`));
      return;
    }
    // While chunks are out the idle time stands still: look again a little later.
    const rest = this.options.idleTimeoutMs - idle;
    this.timer = setTimeout(() => this.checkIdle(), this.jobsOutSince === undefined ? Math.max(1, rest) : Math.max(100, rest));
  }

  /**
   * Ends the session with `err` (the first one wins) after the items already decoded. Chunks out
   * on a parse thread were read before it, so a failure of the stream waits for their items;
   * `now` (the caller leaving, K bad lines in a row) drops them.
   */
  private fail(err: TributaryError, now = false): void {
    if (this.failure !== undefined || this.closed) return;
    if (!now && this.jobs.length > 0) {
      this.pendingFailure ??= err;
      this.input = undefined;
      this.source.destroy();
      return;
    }
    this.failure = err;
    this.input = undefined;
    this.jobs.length = 0;
    this.jobsOutSince = undefined;
    this.gathered = [];
    clearTimeout(this.timer);
    this.timer = undefined;
    // Stop reading at once; the error reaches the caller through `next`, not an 'error' event.
    this.source.destroy();
    this.settle();
  }
}
