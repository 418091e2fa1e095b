// One node-wide queue in front of the idempotent producer: every source batch and DLQ write is
// enqueued, and a single loop sends whatever is pending as one multi-topic request at a time.
// One request in flight keeps the idempotent producer's sequence numbers in order (kafkajs has
// no safe way to pipeline them), and coalescing keeps throughput high with many integrations.
import type { Message, Producer, TopicMessages } from 'kafkajs';

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

export interface ProduceQueueOptions {
  /** Upper bound of one request's payload (bytes of keys and values). */
  maxRequestBytes?: number;
  /** Observes each request: records and milliseconds to acknowledgement. */
  onRequest?: (records: number, ms: number) => void;
  /** Called every `slowAfterMs` while one request is still unanswered (Kafka slow or stuck). */
  onSlow?: (info: { records: number; topics: string[]; waitingMs: number; queued: number }) => void;
  /** How long a request may stay unanswered before `onSlow` is called (default 10 s). */
  slowAfterMs?: number;
}

export class ProduceQueue implements RecordProducer {
  private queue: Pending[] = [];
  private running = false;
  private readonly maxRequestBytes: number;

  constructor(
    private readonly producer: Producer,
    private readonly o: ProduceQueueOptions = {},
  ) {
    this.maxRequestBytes = o.maxRequestBytes ?? 4 * 1024 * 1024;
  }

  send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    let bytes = 0;
    for (const m of messages) bytes += size(m.value) + size(m.key);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, messages, bytes, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  /** Batches waiting to be sent (not yet in a request). */
  get waiting(): number {
    return this.queue.length;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const take: Pending[] = [];
        let bytes = 0;
        while (this.queue.length > 0 && (take.length === 0 || bytes + this.queue[0]!.bytes <= this.maxRequestBytes)) {
          const p = this.queue.shift()!;
          take.push(p);
          bytes += p.bytes;
        }
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
          await this.producer.sendBatch({ acks: -1, topicMessages });
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
}

function size(v: Message['value'] | Message['key']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}
