// One node-wide queue in front of the idempotent producer: every source batch and DLQ write is
// enqueued, and a single loop sends whatever is pending as one multi-topic request at a time.
// One request in flight keeps the idempotent producer's sequence numbers in order (kafkajs has
// no safe way to pipeline them), and coalescing keeps throughput high with many integrations.
import type { Message, Producer, TopicMessages } from 'kafkajs';
import { errorMessage } from '../errors.js';

export interface RecordProducer {
  /** Resolves once Kafka acknowledged every message (acks=all); rejects if it refused them. */
  send(topic: string, messages: Message[]): Promise<void>;
}

interface Pending {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The broker refuses a record batch (one partition's records in one request) above
 * `message.max.bytes`, 1,048,588 bytes by default, with MESSAGE_TOO_LARGE. Kept well under it.
 */
export const defaultMaxPartitionBytes = 1_000_000;
/**
 * `max.message.bytes` of the event and DLQ topics Tributary creates: one Connect line at the
 * client's 1 MiB line cap, with its key and headers, exceeds the broker's 1 MiB default and would
 * be refused on every retry (a source restart loop). Such a record is sent alone (see
 * `takeRequest`), and its topic accepts it.
 */
export const topicMaxMessageBytes = 2 * 1024 * 1024;
/** Overhead of one record batch's header in Kafka's v2 format. */
const recordBatchOverhead = 61;

export interface ProduceQueueOptions {
  /** Upper bound of one request's payload (estimated encoded bytes of its records). */
  maxRequestBytes?: number;
  /**
   * Upper bound of one topic's records in one request: the partitioner may put them all in one
   * partition, so this must stay under the broker's `message.max.bytes`.
   */
  maxPartitionBytes?: number;
  /** Observes each request: records and milliseconds to acknowledgement. */
  onRequest?: (records: number, ms: number) => void;
  /** Called every `slowAfterMs` while one request is still unanswered (Kafka slow or stuck). */
  onSlow?: (info: { records: number; topics: string[]; waitingMs: number; queued: number }) => void;
  /** How long a request may stay unanswered before `onSlow` is called (default 10 s). */
  slowAfterMs?: number;
  /** Called when the producer is replaced because its sequence numbers left the broker's. */
  onReplace?: (reason: string) => void;
}

/**
 * The errors by which the broker says an idempotent producer's state (its id, epoch or sequence
 * numbers) no longer matches its own. kafkajs never recovers from them: it rolls its sequence
 * numbers back after any failed request, even for partitions the broker had written, so a
 * producer that hit one fails every later request to those partitions. Only a new producer id helps.
 */
const producerStateErrors = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

export function isProducerStateError(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' && producerStateErrors.has(type);
}

/**
 * An upper bound of a record's encoded size: key, value, headers and the varints around them.
 * Runs once per record on the produce path: no allocation.
 */
export function recordBytes(m: Message): number {
  let n = size(m.value) + size(m.key) + 30;
  const h = m.headers;
  if (h) {
    for (const k in h) {
      const v = h[k];
      n += Buffer.byteLength(k) + 10;
      if (Array.isArray(v)) for (const x of v) n += size(x) + 5;
      else n += size(v);
    }
  }
  return n;
}

export class ProduceQueue implements RecordProducer {
  private queue: Pending[] = [];
  private running = false;
  private producer: Producer;
  private connected = false;
  private readonly factory: (() => Producer) | undefined;
  private readonly maxRequestBytes: number;
  /** Record bytes of one topic in one request: a partition's record batch, less its header. */
  private readonly maxTopicBytes: number;

  /**
   * `producer` is either a producer the caller connects, or a factory: then the queue connects
   * it (`connect`) and may replace it by a new one when the broker no longer accepts its state.
   */
  constructor(
    producer: Producer | (() => Producer),
    private readonly o: ProduceQueueOptions = {},
  ) {
    if (typeof producer === 'function') {
      this.factory = producer;
      this.producer = producer();
    } else {
      this.factory = undefined;
      this.producer = producer;
      this.connected = true;
    }
    this.maxRequestBytes = o.maxRequestBytes ?? 4 * 1024 * 1024;
    this.maxTopicBytes = (o.maxPartitionBytes ?? defaultMaxPartitionBytes) - recordBatchOverhead;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }

  /**
   * Queues the messages of one topic; resolves when all are acknowledged. Messages beyond one
   * request's share of a partition go in several requests, in order.
   */
  send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const pieces: Promise<void>[] = [];
    let start = 0;
    let bytes = 0;
    const push = (end: number) => {
      const part = start === 0 && end === messages.length ? messages : messages.slice(start, end);
      const partBytes = bytes;
      pieces.push(new Promise<void>((resolve, reject) => this.queue.push({ topic, messages: part, bytes: partBytes, resolve, reject })));
    };
    for (let i = 0; i < messages.length; i++) {
      const b = recordBytes(messages[i]!);
      if (i > start && bytes + b > this.maxTopicBytes) {
        push(i);
        start = i;
        bytes = 0;
      }
      bytes += b;
    }
    push(messages.length);
    if (!this.running) void this.drain();
    return pieces.length === 1 ? pieces[0]! : Promise.all(pieces).then(() => undefined);
  }

  /** Batches waiting to be sent (not yet in a request). */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * The next request: queued batches in order, within the request's bytes, and within one
   * partition's bytes per topic. A topic's batch that does not fit holds back that topic's later
   * batches (their order in Kafka is their order here); other topics' batches may still go.
   */
  private takeRequest(): Pending[] {
    const take: Pending[] = [];
    const rest: Pending[] = [];
    const topicBytes = new Map<string, number>();
    const held = new Set<string>();
    let bytes = 0;
    let i = 0;
    for (; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      if (take.length > 0 && bytes + p.bytes > this.maxRequestBytes) break;
      const tb = topicBytes.get(p.topic) ?? 0;
      if (p.bytes > this.maxTopicBytes && !held.has(p.topic)) {
        // One record larger than a record batch may be: the broker will refuse it, and a refusal
        // would roll back the sequence numbers of every partition in the request (see
        // producerStateErrors), so it goes alone.
        if (take.length === 0) {
          take.push(p);
          i += 1;
        }
        break;
      }
      if (held.has(p.topic) || (tb > 0 && tb + p.bytes > this.maxTopicBytes)) {
        held.add(p.topic);
        rest.push(p);
        continue;
      }
      take.push(p);
      bytes += p.bytes;
      topicBytes.set(p.topic, tb + p.bytes);
    }
    for (; i < this.queue.length; i++) rest.push(this.queue[i]!);
    this.queue = rest;
    return take;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const take = this.takeRequest();
        const byTopic = new Map<string, Message[]>();
        for (const p of take) {
          const list = byTopic.get(p.topic);
          if (list) for (const m of p.messages) list.push(m);
          else byTopic.set(p.topic, [...p.messages]);
        }
        const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
        const started = Date.now();
        const records = take.reduce((n, p) => n + p.messages.length, 0);
        const slow = this.o.onSlow
          ? setInterval(
              () => this.o.onSlow?.({ records, topics: [...byTopic.keys()], waitingMs: Date.now() - started, queued: this.queue.length }),
              this.o.slowAfterMs ?? 10_000,
            )
          : undefined;
        slow?.unref();
        try {
          await this.request(topicMessages);
          this.o.onRequest?.(records, Date.now() - started);
          for (const p of take) p.resolve();
        } catch (err) {
          for (const p of take) p.reject(err);
        } finally {
          clearInterval(slow);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async request(topicMessages: TopicMessages[]): Promise<void> {
    try {
      if (!this.connected) await this.connect();
      await this.producer.sendBatch({ acks: -1, topicMessages });
    } catch (err) {
      if (!this.factory || !isProducerStateError(err)) throw err;
      // A new producer id starts every partition's sequence afresh. What the old one had written
      // but not had acknowledged may be written again: sinks drop such copies by event id.
      this.o.onReplace?.(errorMessage(err));
      const old = this.producer;
      this.connected = false;
      this.producer = this.factory();
      await old.disconnect().catch(() => undefined);
      await this.connect();
      await this.producer.sendBatch({ acks: -1, topicMessages });
    }
  }
}

function size(v: Message['value'] | Message['key']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}
