// Every node's view of the flags topic (fleet-wide and per-app feature flags, docs/flags.md): read
// whole at start, then again whenever the topic's end moves (its offsets are polled every
// `control.flagsPollMs`). A change hands the new overrides to `onChange`; the node then asks each
// integration to re-resolve its flags, and only those whose flags changed restart the part the
// flag affects. A bad record is logged and skipped; a failed read keeps the flags as they were.
import type { Admin, Kafka } from 'kafkajs';
import { errorMessage } from '../errors.js';
import { topicOffsets } from '../kafka/tail-reader.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { readControlTopic } from './control-topic.js';
import { noFlagOverrides, overrideSettings, overridesFromSnapshot, type FlagOverrides } from './flags.js';

export interface FlagsWatcherOptions {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  pollMs: number;
  logger: Logger;
  metrics: Metrics;
  onChange(overrides: FlagOverrides): void;
}

export class FlagsWatcher {
  private current: FlagOverrides = noFlagOverrides;
  /** The topic's end offsets at the last complete read ("" before the first). */
  private readEnd = '';
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: FlagsWatcherOptions) {}

  get overrides(): FlagOverrides {
    return this.current;
  }

  /** The first read (its failure is the caller's: a node must not start on unknown flags), then the polls. */
  async start(): Promise<void> {
    await this.readIfMoved();
    this.timer = setInterval(() => void this.poll(), this.o.pollMs);
    this.timer.unref();
  }

  /** One poll, single flight; a failure is logged and the flags stay as they were. */
  poll(): Promise<void> {
    this.polling ??= this.readIfMoved()
      .catch((err) => this.o.logger.warn({ topic: this.o.topic, err: errorMessage(err) }, 'flags topic not read; flags unchanged until the next poll'))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.polling;
  }

  private async readIfMoved(): Promise<void> {
    const end = (await topicOffsets(this.o.admin, this.o.topic)).map((p) => `${p.partition}:${p.high}`).join(',');
    if (end === this.readEnd || this.stopped) return;
    // A generous idle bound: an early stop would read part of the log and take it for the whole.
    const snapshot = await readControlTopic(this.o.kafka, this.o.admin, this.o.topic, { idleMs: 5_000, timeoutMs: 30_000, keepAll: true });
    const next = overridesFromSnapshot(
      snapshot,
      (key, err) => {
        this.o.metrics.count('control.flag_records_rejected', 1);
        this.o.logger.warn({ topic: this.o.topic, key: key.slice(0, 200), err: err.message }, 'flag record refused; the setting keeps its last good value');
      },
      this.current,
    );
    this.readEnd = end;
    const before = JSON.stringify(overrideSettings(this.current));
    const after = JSON.stringify(overrideSettings(next));
    if (before === after || this.stopped) return;
    this.current = next;
    this.o.logger.info({ topic: this.o.topic, flags: overrideSettings(next) }, 'feature flags on the flags topic changed');
    this.o.onChange(next);
  }
}
