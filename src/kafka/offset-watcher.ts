// One watcher per node for the events topics of parked sinks (docs/pipeline.md, "Parked sinks").
// A sink that has delivered everything and stayed idle leaves its consumer group and registers
// here with the offsets it stopped at; every `pollMs` the watcher asks each broker, in one
// ListOffsets request for all parked topics it leads, for their end offsets. A parked topic that
// grew by a trickle (≤ `trickleRecords`; a sink that weighs its records — packed records carry
// many events each — counts the events it fetched instead) is fetched here, in one Fetch request
// per broker for all such topics, and handed to its sink, which delivers it and commits without a group member
// (generation −1, as a standalone consumer does). A topic that grew by more, or that cannot be
// read, wakes its sink, which joins its group and consumes as before. So 990 quiet integrations
// cost two or three small requests a second instead of 990 consumers with their fetch
// long-polls, heartbeats, two connections each, and a group join for every stray event.
//
// Each poll is one ListOffsets request per leader. The partitions' leaders come from a Metadata
// answer kept for `metadataMaxAgeMs`: asking the Metadata of 1,000 topics every poll cost ~2 ms
// more of the node's CPU and ~2.4 ms more of the broker's (`npm run bench:offset-watcher`). A
// topic new to the watcher is asked at once; an error on a leader taken from that cache (a moved
// leader, a deleted topic) re-asks that topic's metadata on the next poll before anything is woken.
// A leadership still settling (no leader yet, or a leader that does not know it leads yet: a topic
// just created answers so for a moment after its Metadata names the leader) is asked again too,
// every poll for up to `settleMs`; past that the sink is woken with the error.
//
// kafkajs answers a whole request with the first partition error it finds, which would let one
// deleted topic blind the watcher for everyone. The watcher therefore sends its Metadata and
// ListOffsets requests through kafkajs's broker connection itself, reads each topic's own error
// code, and wakes a sink whose topic has any error: its consumer then meets the problem the usual
// way (retries, supervision). When the brokers cannot be asked at all for `wakeAllAfterMs`, every
// parked sink is woken too, so a broken watcher never leaves data waiting unseen.
import type { Kafka, KafkaMessage } from 'kafkajs';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { apiKeys, Batch, chunkSize, LATEST, listOffsets, RawKafka, requests, sendRaw, type FetchResponse } from './raw-kafka.js';

export interface OffsetWatcherOptions {
  kafka: Kafka;
  logger: Logger;
  /** How often the parked topics' end offsets are read. */
  pollMs: number;
  /** The brokers unanswering this long: wake every parked sink (they fall back to consuming). */
  wakeAllAfterMs?: number;
  /**
   * A parked topic grown by at most this many records is fetched and delivered here; more wakes
   * its sink. For a sink that `weigh`s its records, the fetched records' events must be within it too.
   */
  trickleRecords?: number;
  /** How long the parked topics' leaders (a Metadata answer) are used before being asked again. */
  metadataMaxAgeMs?: number;
  /** How long a topic's answer may stay stale or settling before its sink is woken with the error (default 3 s). */
  settleMs?: number;
}

/**
 * ListOffsets error codes that mean the leader the watcher asked is no longer (or not yet) the
 * right one: 3 UNKNOWN_TOPIC_OR_PARTITION (also a deleted topic), 5 LEADER_NOT_AVAILABLE,
 * 6 NOT_LEADER_OR_FOLLOWER, 74 FENCED_LEADER_EPOCH, 75 UNKNOWN_LEADER_EPOCH.
 */
const staleLeaderCodes: ReadonlySet<number> = new Set([3, 5, 6, 74, 75]);

/** Of those, the codes of a leadership being elected or moved: even a fresh answer may say so for a moment. */
const settlingCodes: ReadonlySet<number> = new Set([5, 6, 74, 75]);

/** What a parked sink gives the watcher. */
export interface WatchHandlers {
  /** Consume normally again: a backlog, a topic error, or the brokers unreachable. Called once; the watch ends. */
  wake(reason: string): void;
  /**
   * New records of a few partitions, fetched by the watcher: deliver them and commit. Resolves
   * with the next position of each partition it finished; a rejection wakes the sink. Absent:
   * any new record wakes the sink.
   */
  deliver?(records: ReadonlyMap<number, readonly KafkaMessage[]>, ends: ReadonlyMap<number, bigint>): Promise<ReadonlyMap<number, bigint>>;
  /**
   * How many events a fetched record carries (a packed record, many). Absent: one each. Fetched
   * records that weigh more than the trickle bound wake the sink instead of being delivered here:
   * a burst in a few big records is a backlog for the sink's consumer, not a trickle.
   */
  weigh?(record: KafkaMessage): number;
}

interface Watch {
  topic: string;
  /** The next offset the sink would read, per partition; a partition not listed starts at 0. */
  positions: Map<number, bigint>;
  handlers: WatchHandlers;
  /** A delivery of fetched records is in progress: not fetched again until it ends. */
  busy: boolean;
}

/** Bytes fetched per partition for a trickle (the broker still returns a larger first batch whole). */
const trickleFetchBytes = 1024 * 1024;

export class OffsetWatcher {
  private readonly raw: RawKafka;
  private readonly watches = new Map<number, Watch>();
  private nextId = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private failingSince = 0;
  private lastWarnAt = 0;
  private readonly log: Logger;
  /** Each parked topic's partition leaders, from Metadata answers since `leadersAt`. */
  private readonly leaders = new Map<string, Map<number, number>>();
  private leadersAt = 0;
  /** Topics asked again because their answer was stale or settling: since when, every poll since. */
  private readonly rechecks = new Map<string, number>();

  constructor(private readonly o: OffsetWatcherOptions) {
    this.log = o.logger.child({ component: 'offset-watcher' });
    this.raw = new RawKafka(o.kafka);
  }

  private get trickle(): number {
    return this.o.trickleRecords ?? 500;
  }

  get size(): number {
    return this.watches.size;
  }

  /**
   * Wakes `wake` once, when any partition of `topic` ends past its position (or the topic cannot
   * be read). Returns the function that cancels the watch.
   */
  watch(topic: string, positions: ReadonlyMap<number, bigint>, handlers: WatchHandlers): () => void {
    const id = this.nextId++;
    this.watches.set(id, { topic, positions: new Map(positions), handlers, busy: false });
    this.ensureTimer();
    return () => void this.watches.delete(id);
  }

  /** Reads the end offsets now (the timer does this every `pollMs`). */
  async poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.watches.clear();
    await this.polling?.catch(() => undefined);
    await this.raw.reset();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.o.pollMs);
    this.timer.unref();
  }

  private async pollOnce(): Promise<void> {
    if (this.watches.size === 0) return;
    const watches = [...this.watches];
    try {
      const { ends, leaders, recheck } = await this.endOffsets([...new Set(watches.map(([, w]) => w.topic))]);
      this.failingSince = 0;
      const trickles: [number, Watch, Map<number, bigint>][] = [];
      for (const [id, w] of watches) {
        if (w.busy || recheck.has(w.topic)) continue;
        const end = ends.get(w.topic);
        if (end === undefined || typeof end === 'string') {
          this.fire(id, w, end ?? 'topic metadata missing');
          continue;
        }
        const grown = grewPast(end, w.positions);
        if (!grown) continue;
        const backlog = [...end].reduce((n, [p, e]) => n + Math.max(0, Number(e - (w.positions.get(p) ?? 0n))), 0);
        if (!w.handlers.deliver || backlog > this.trickle) this.fire(id, w, grown);
        else trickles.push([id, w, end]);
      }
      if (trickles.length) await this.fetchTrickles(trickles, leaders);
    } catch (err) {
      const now = Date.now();
      this.failingSince ||= now;
      if (now - this.lastWarnAt > 30_000) {
        this.lastWarnAt = now;
        this.log.warn({ err: errorMessage(err), watched: this.watches.size }, 'offset watcher cannot read end offsets; retrying');
      }
      if (now - this.failingSince >= (this.o.wakeAllAfterMs ?? 60_000)) {
        for (const [id, w] of watches) this.fire(id, w, `end offsets unreadable for ${Math.round((now - this.failingSince) / 1000)} s`);
        this.failingSince = 0;
      }
      // A fresh connection and fresh leaders next time (a restarted broker, a moved leader).
      this.leaders.clear();
      await this.raw.reset();
    }
  }

  /**
   * Fetches the grown partitions of trickling topics (one request per leader) and hands each
   * topic's records to its sink without waiting for the delivery: a slow sink delays only itself.
   */
  private async fetchTrickles(trickles: [number, Watch, Map<number, bigint>][], leaders: Map<string, Map<number, number>>): Promise<void> {
    const byLeader = new Map<number, [number, Watch, Map<number, bigint>][]>();
    for (const t of trickles) {
      const [, w, end] = t;
      for (const [p, e] of end) {
        if (e <= (w.positions.get(p) ?? 0n)) continue;
        const leader = leaders.get(w.topic)?.get(p);
        if (leader === undefined) continue;
        const list = byLeader.get(leader) ?? [];
        if (!list.includes(t)) list.push(t);
        byLeader.set(leader, list);
      }
    }
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        const broker = await this.raw.broker(leader);
        const wanted = list.map(([, w, end]) => ({
          topic: w.topic,
          partitions: [...end]
            .filter(([p, e]) => e > (w.positions.get(p) ?? 0n) && leaders.get(w.topic)?.get(p) === leader)
            .map(([partition]) => ({ partition, fetchOffset: String(w.positions.get(partition) ?? 0n), maxBytes: trickleFetchBytes })),
        }));
        const res = await sendRaw<FetchResponse>(broker, apiKeys.Fetch, requests.Fetch, {
          replicaId: -1,
          maxWaitTime: 0,
          minBytes: 0,
          maxBytes: 16 * 1024 * 1024,
          isolationLevel: 1,
          topics: wanted,
        });
        const byTopic = new Map(res.responses.map((r) => [r.topicName, r.partitions]));
        for (const [id, w, end] of list) {
          const records = new Map<number, KafkaMessage[]>();
          let problem: string | undefined;
          for (const pd of byTopic.get(w.topic) ?? []) {
            if (pd.errorCode !== 0) problem ??= `partition ${pd.partition} error code ${pd.errorCode}`;
            else {
              const messages = new Batch(w.topic, String(w.positions.get(pd.partition) ?? 0n), pd).messages;
              if (messages.length) records.set(pd.partition, messages);
            }
          }
          // Nothing readable although the end moved (only transaction markers, say): the consumer copes.
          if (problem || records.size === 0) {
            this.fire(id, w, problem ?? 'new records not readable by a plain fetch');
            continue;
          }
          const weigh = w.handlers.weigh;
          if (weigh) {
            let events = 0;
            for (const messages of records.values()) for (const m of messages) events += weigh(m);
            if (events > this.trickle) {
              this.fire(id, w, `${events} new events in ${[...records.values()].reduce((n, ms) => n + ms.length, 0)} records: more than a trickle`);
              continue;
            }
          }
          this.deliver(id, w, records, end);
        }
      }),
    );
  }

  private deliver(id: number, w: Watch, records: Map<number, KafkaMessage[]>, ends: Map<number, bigint>): void {
    w.busy = true;
    w.handlers.deliver!(records, ends).then(
      (next) => {
        w.busy = false;
        for (const [p, at] of next) if (at > (w.positions.get(p) ?? 0n)) w.positions.set(p, at);
        // Delivered only part (stopping, or a sink that cut short): consume normally.
        for (const [p, messages] of records) {
          const last = BigInt(messages[messages.length - 1]!.offset) + 1n;
          if ((w.positions.get(p) ?? 0n) < last && this.watches.has(id)) return this.fire(id, w, `partition ${p} not fully delivered by the watcher`);
        }
      },
      (err: unknown) => {
        w.busy = false;
        this.fire(id, w, `delivery of fetched records failed: ${errorMessage(err)}`);
      },
    );
  }

  /**
   * Commits a parked sink's offsets without a group member (generation −1, empty member id), as a
   * standalone consumer does. The broker refuses it while the group has members (another node's
   * sink took over): the caller then stops delivering here.
   */
  async commit(groupId: string, topic: string, offsets: ReadonlyMap<number, string>): Promise<void> {
    const coordinator = await this.raw.groupCoordinator(groupId);
    try {
      await coordinator.offsetCommit({
        groupId,
        groupGenerationId: -1,
        memberId: '',
        topics: [{ topic, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset })) }],
      });
    } catch (err) {
      this.raw.forgetCoordinator(groupId, err);
      throw err;
    }
  }

  private fire(id: number, w: Watch, reason: string): void {
    if (!this.watches.delete(id)) return;
    try {
      w.handlers.wake(reason);
    } catch (err) {
      this.log.error({ topic: w.topic, err: errorMessage(err) }, 'parked sink wake-up failed');
    }
  }

  /**
   * Per topic: end offset per partition, or the reason it cannot be read (a topic-level error).
   * `recheck`: topics whose cached leader answered with a stale-leader error, or whose leadership
   * is settling (`askAgain`); their metadata is asked again next poll, and nothing is concluded
   * about them in this one.
   */
  private async endOffsets(
    topicNames: string[],
  ): Promise<{ ends: Map<string, Map<number, bigint> | string>; leaders: Map<string, Map<number, number>>; recheck: Set<string> }> {
    const out = new Map<string, Map<number, bigint> | string>();
    const leaders = new Map<string, Map<number, number>>();
    const recheck = new Set<string>();
    const now = Date.now();
    if (now - this.leadersAt >= (this.o.metadataMaxAgeMs ?? 30_000)) {
      this.leaders.clear();
      this.leadersAt = now;
    }
    const asked = new Set(topicNames.filter((t) => !this.leaders.has(t)));
    if (asked.size > 0) {
      for (const t of await this.raw.metadata([...asked])) {
        if (t.topicErrorCode !== 0) {
          out.set(t.topic, `topic error code ${t.topicErrorCode}`);
          continue;
        }
        const broken = t.partitionMetadata.find((p) => p.partitionErrorCode !== 0 || p.leader < 0);
        if (broken) {
          const settling = broken.leader < 0 || settlingCodes.has(broken.partitionErrorCode);
          if (!(settling && this.askAgain(t.topic, recheck, now))) out.set(t.topic, `partition ${broken.partitionId} error code ${broken.partitionErrorCode}`);
          continue;
        }
        this.leaders.set(t.topic, new Map(t.partitionMetadata.map((p) => [p.partitionId, p.leader])));
      }
    }
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const topic of topicNames) {
      const partitions = this.leaders.get(topic);
      if (!partitions || out.has(topic)) continue;
      out.set(topic, new Map());
      leaders.set(topic, partitions);
      for (const [partition, leader] of partitions) {
        const topics = byLeader.get(leader) ?? new Map<string, number[]>();
        byLeader.set(leader, topics);
        topics.set(topic, [...(topics.get(topic) ?? []), partition]);
      }
    }
    await Promise.all(
      [...byLeader].map(async ([leader, topics]) => {
        const broker = await this.raw.broker(leader);
        const entries = [...topics];
        for (let i = 0; i < entries.length; i += chunkSize) {
          const res = await listOffsets(
            broker,
            entries.slice(i, i + chunkSize).map(([topic, partitions]) => ({ topic, partitions })),
            LATEST,
          );
          for (const r of res.responses) {
            const ends = out.get(r.topic);
            if (!(ends instanceof Map)) continue;
            for (const p of r.partitions) {
              const offset = p.offset ?? p.offsets?.[0];
              // Leaders from an older answer, or still settling: ask this topic's metadata again before concluding.
              const stale = staleLeaderCodes.has(p.errorCode) && !asked.has(r.topic);
              if ((stale || settlingCodes.has(p.errorCode)) && this.askAgain(r.topic, recheck, now)) continue;
              if (p.errorCode !== 0 || offset === undefined) out.set(r.topic, `partition ${p.partition} error code ${p.errorCode}`);
              else if (out.get(r.topic) instanceof Map) ends.set(p.partition, BigInt(offset));
            }
          }
        }
      }),
    );
    // A topic answered (or concluded) this poll starts afresh; one no longer watched is forgotten.
    for (const topic of this.rechecks.keys()) if (!recheck.has(topic)) this.rechecks.delete(topic);
    return { ends: out, leaders, recheck };
  }

  /**
   * Marks `topic` to be asked again next poll (its cached leaders forgotten), unless it has been
   * asked again every poll for `settleMs` already: then false, and the caller concludes with the error.
   */
  private askAgain(topic: string, recheck: Set<string>, now: number): boolean {
    if (recheck.has(topic)) return true;
    const since = this.rechecks.get(topic) ?? now;
    if (now - since >= (this.o.settleMs ?? 3_000)) return false;
    this.rechecks.set(topic, since);
    this.leaders.delete(topic);
    recheck.add(topic);
    return true;
  }
}

/** Why a parked sink has work: a partition whose end is past the sink's position, or undefined. */
export function grewPast(ends: ReadonlyMap<number, bigint>, positions: ReadonlyMap<number, bigint>): string | undefined {
  for (const [partition, end] of ends) {
    const at = positions.get(partition) ?? 0n;
    if (end > at) return `partition ${partition} has ${end - at} new records`;
  }
  return undefined;
}
