import { randomUUID } from 'node:crypto';
import { KafkaConsumer, type LibrdKafkaError, type Message, type Metadata, type WatermarkOffsets } from 'node-rdkafka';
import type { Config, RdkafkaConf } from '../config/types';
import { partitionKey, planStart, type PartitionStart, type TopicPartition } from './start-plan';
import type { ResumeRequest } from './resume';

/** Where a partition is read from: the next offset to deliver. */
export interface Assignment extends TopicPartition {
  readonly offset: number;
}

/** Connection settings taken from sink.kafka.conf; producer tuning there would only draw librdkafka warnings. */
const CONNECTION_KEY = /^(bootstrap\.servers|metadata\.broker\.list|security\.protocol|broker\.address\.family|client\.rack|(ssl|sasl)\..+)$/;

/**
 * One client's consumer stays small: 200 of them share one process. librdkafka's defaults pre-fetch
 * up to 64 MiB per consumer; 1 MiB still covers many polls' worth of events.
 */
const LIGHT_DEFAULTS: RdkafkaConf = {
  'queued.max.messages.kbytes': 1024,
  'queued.min.messages': 1000,
  'statistics.interval.ms': 0,
  'log.connection.close': false,
};

/**
 * The librdkafka config of EventStreams consumers, or null when no Kafka is configured. Reads are
 * assign()ed at explicit offsets: no group is joined and nothing is committed, so group.id is a
 * required formality.
 */
export function consumerConf(config: Config): RdkafkaConf | null {
  const inherited = Object.fromEntries(Object.entries(config.sink.kafka.conf).filter(([key]) => CONNECTION_KEY.test(key)));
  const conf: RdkafkaConf = { ...LIGHT_DEFAULTS, 'client.id': `${config.service_name}-eventstreams`, ...inherited, ...config.eventstreams.kafka.conf };
  if (conf['bootstrap.servers'] === undefined && conf['metadata.broker.list'] === undefined) return null;
  return {
    ...conf,
    'group.id': `${config.service_name}-eventstreams-${randomUUID()}`,
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'enable.partition.eof': false,
    'allow.auto.create.topics': false,
  };
}

/**
 * A Kafka consumer for one EventStreams client: opened at the offsets the client asked for, polled
 * without blocking (a blocking consume would hold one of libuv's four pool threads per client), closed
 * once. node-rdkafka calls are promisified here and nowhere else.
 */
export class StreamConsumer {
  private readonly consumer: KafkaConsumer;
  private inflight: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | null = null;

  constructor(
    conf: RdkafkaConf,
    private readonly timeoutMs: number,
    onError: (err: LibrdKafkaError) => void,
  ) {
    // Out-of-range offsets (a Last-Event-ID older than retention) start at the oldest kept message.
    this.consumer = new KafkaConsumer(conf as never, { 'auto.offset.reset': 'earliest' });
    this.consumer.on('event.error', onError);
    this.consumer.setDefaultConsumeTimeout(0);
  }

  /** Connects, looks up the start offset of every partition of `topics`, and assigns them. */
  async open(topics: readonly string[], resume: ResumeRequest): Promise<Assignment[]> {
    await this.track(this.connect(topics[0]!));
    const assignments = await this.track(this.resolve(planStart(await this.partitionsOf(topics), resume)));
    this.consumer.assign(assignments.map((a) => ({ ...a })));
    return assignments;
  }

  /**
   * Partitions of `topics` that appeared after the others were assigned (a topic's first event, an
   * added partition), assigned from their first offset: all they hold is newer than the client's start.
   */
  async discover(topics: readonly string[], assigned: ReadonlySet<string>): Promise<Assignment[]> {
    const fresh = (await this.partitionsOf(topics)).filter((p) => !assigned.has(partitionKey(p)));
    if (fresh.length === 0 || this.closing !== null) return [];
    const assignments = await this.track(Promise.all(fresh.map(async (p) => ({ ...p, offset: (await this.watermarks(p)).lowOffset }))));
    if (this.closing !== null) return [];
    this.consumer.incrementalAssign(assignments.map((a) => ({ ...a })));
    return assignments;
  }

  /** Up to `max` messages already fetched; an empty array when none are waiting. */
  poll(max: number): Promise<Message[]> {
    return this.track(
      new Promise((resolve, reject) => {
        this.consumer.consume(max, (err, messages) => (err ? reject(err) : resolve(messages)));
      }),
    );
  }

  /** Disconnects once, after any call in flight; resolves when librdkafka has let go. */
  close(): Promise<void> {
    this.closing ??= this.inflight.then(
      () =>
        new Promise<void>((resolve) => {
          this.consumer.disconnect(() => resolve());
        }),
    );
    return this.closing;
  }

  /** Registers a call with librdkafka, so close() waits for every one in flight. */
  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight = Promise.all([this.inflight, work.catch(() => undefined)]);
    return work;
  }

  /** A topic no event has been produced to yet has no partitions. */
  private async partitionsOf(topics: readonly string[]): Promise<TopicPartition[]> {
    const wanted = new Set(topics);
    const found = await this.track(Promise.all(topics.map((topic) => this.metadata(topic))));
    return found.flatMap((metadata) => metadata.topics.filter((t) => wanted.has(t.name)).flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.id }))));
  }

  /** Connecting fetches metadata too: of one topic only (node-rdkafka's default is the whole cluster's, per client). */
  private connect(topic: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.consumer.connect({ topic, allTopics: false, timeout: this.timeoutMs }, (err) => (err ? reject(err) : resolve()));
    });
  }

  private metadata(topic: string): Promise<Metadata> {
    return new Promise((resolve, reject) => {
      this.consumer.getMetadata({ topic, allTopics: false, timeout: this.timeoutMs }, (err, metadata) => (err ? reject(err) : resolve(metadata)));
    });
  }

  private async resolve(plan: readonly PartitionStart[]): Promise<Assignment[]> {
    const highs = await Promise.all(plan.map(async (p) => (await this.watermarks(p)).highOffset));
    const byTime = plan.filter((p) => 'timestamp' in p);
    const timed = byTime.length === 0 ? [] : await this.offsetsForTimes(byTime.map((p) => ({ topic: p.topic, partition: p.partition, offset: (p as { timestamp: number }).timestamp })));
    return plan.map((p, i) => {
      const high = highs[i]!;
      if ('offset' in p) return { topic: p.topic, partition: p.partition, offset: Math.min(p.offset, high) };
      if ('timestamp' in p) {
        const found = timed.find((t) => t.topic === p.topic && t.partition === p.partition)?.offset ?? -1;
        // -1: no message at or after that time, so start at the end.
        return { topic: p.topic, partition: p.partition, offset: found < 0 ? high : found };
      }
      return { topic: p.topic, partition: p.partition, offset: high };
    });
  }

  private watermarks(p: TopicPartition): Promise<WatermarkOffsets> {
    return new Promise((resolve, reject) => {
      this.consumer.queryWatermarkOffsets(p.topic, p.partition, this.timeoutMs, (err, offsets) => (err ? reject(err) : resolve(offsets)));
    });
  }

  private offsetsForTimes(query: Assignment[]): Promise<Assignment[]> {
    return new Promise((resolve, reject) => {
      this.consumer.offsetsForTimes(query, this.timeoutMs, (err, found) => (err ? reject(err) : resolve(found as Assignment[])));
    });
  }
}
