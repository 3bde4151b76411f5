import { Producer, CODES, type LibrdKafkaError } from 'node-rdkafka';
import type { Config, RdkafkaConf } from '../config/types';
import { RateLimitedLog, type Logger } from '../log';
import { BATCHED_DELIVERY_REPORTS, onDeliveryReports } from './kafka-delivery-reports';
import { Backlog, DeliveryLedger } from './kafka-ledger';
import { produceRun } from './kafka-produce-spans';
import type { KafkaStats } from './kafka-stats';
import type { MessageBatch, Sink, SinkFailure, SinkUnavailable } from './types';

type Mode = 'guaranteed' | 'hasty';

/** How often messages waiting for room in librdkafka's queue are offered again. */
const BACKLOG_RETRY_MS = 5;
const PROBE_UP_MS = 10_000;
const PROBE_DOWN_MS = 1_000;
const PROBE_TIMEOUT_MS = 2_000;
/** Delivery reports are served by polling; guaranteed requests wait on them, so poll often. */
const POLL_MS: Record<Mode, number> = { guaranteed: 1, hasty: 10 };
const DEFAULT_LINGER_MS: Record<Mode, number> = { guaranteed: 1, hasty: 20 };
const QUEUE_MAX_MESSAGES = 100_000;
/** librdkafka's error names by code (-192 → "msg_timed_out"): a bounded label for sluice_sink_errors_total. */
const ERROR_NAMES = new Map(Object.entries(CODES.ERRORS).map(([name, code]) => [code, name.replace(/^ERR_+/, '').toLowerCase()]));

function kafkaFailure(err: LibrdKafkaError): SinkFailure {
  return { reason: `kafka_${ERROR_NAMES.get(err.code) ?? 'error'}`, message: `kafka: ${err.message}` };
}

/**
 * librdkafka topic-level properties. node-rdkafka replaces the default topic config with its second
 * constructor argument, so these are silently dropped from the global config and must go there.
 */
const TOPIC_LEVEL = new Set([
  'acks',
  'request.required.acks',
  'request.timeout.ms',
  'message.timeout.ms',
  'delivery.timeout.ms',
  'partitioner',
  'queuing.strategy',
  'produce.offset.report',
  'compression.level',
]);

function splitConf(conf: RdkafkaConf): { global: RdkafkaConf; topic: RdkafkaConf } {
  const global: RdkafkaConf = {};
  const topic: RdkafkaConf = {};
  for (const [key, value] of Object.entries(conf)) (TOPIC_LEVEL.has(key) ? topic : global)[key] = value;
  return { global, topic };
}

/** One node-rdkafka producer for one delivery mode, with its ledger and backlog. */
class ModeProducer {
  readonly ledger = new DeliveryLedger();
  readonly backlog = new Backlog();
  readonly producer: Producer;
  connected = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly retry = (): void => {
    this.retryTimer = null;
    this.drain();
  };

  constructor(
    readonly mode: Mode,
    conf: RdkafkaConf,
    private readonly onError: (mode: Mode, err: LibrdKafkaError) => void,
    stats: KafkaStats,
  ) {
    const { global, topic } = splitConf(conf);
    this.producer = new Producer({ ...global, ...BATCHED_DELIVERY_REPORTS } as never, topic as never);
    onDeliveryReports(this.producer, (errors, seqs) => {
      for (let i = 0; i < seqs.length; i++) {
        const err = errors?.[i];
        this.ledger.settle(seqs[i] as number, err ? kafkaFailure(err) : null);
      }
    });
    this.producer.on('event.error', (err: LibrdKafkaError) => this.onError(mode, err));
    // Emitted only when statistics.interval.ms is set in the producer conf.
    this.producer.on('event.stats', (event: { message: string }) => stats.record(mode, event));
  }

  /** Hands messages from … to-1 (one topic) to librdkafka, or queues them behind those already waiting. */
  send(batch: MessageBatch, from: number, to: number, downReason: string | null): void {
    if (!this.connected) {
      const failure = { reason: 'kafka_not_connected', message: `kafka: ${downReason ?? 'producer not connected'}` };
      for (let i = from; i < to; i++) batch.settle(i, failure);
      return;
    }
    const waitFrom = this.backlog.size > 0 ? from : this.produce(batch, from, to);
    if (waitFrom === to) return;
    for (let i = waitFrom; i < to; i++) this.backlog.push(batch, i);
    this.scheduleRetry();
  }

  /** Offers waiting messages again, oldest first, until librdkafka is full again. */
  drain(): void {
    while (this.backlog.size > 0) {
      const batch = this.backlog.peekBatch();
      const i = this.backlog.peekIndex();
      if (!batch.isSettled(i) && this.produce(batch, i, i + 1) === i) return this.scheduleRetry();
      this.backlog.shift();
    }
  }

  /**
   * Produces messages from … to-1 until librdkafka's queue is full; returns the first it did not take.
   * A message librdkafka refuses for any other reason is settled with that failure, and the rest go on.
   */
  private produce(batch: MessageBatch, from: number, to: number): number {
    const topic = batch.topic(from);
    let next = from;
    while (next < to) {
      const seq = this.ledger.nextSeq;
      const reserved = this.ledger.reserve(batch, next, to - next);
      if (reserved === 0) return next; // the ledger is full: wait, as for librdkafka's queue
      const { produced, error } = produceRun(this.producer, topic, batch, next, reserved, seq);
      this.ledger.release(seq + produced, reserved - produced);
      next += produced;
      if (error === null) continue;
      if (error.code === CODES.ERRORS.ERR__QUEUE_FULL) return next;
      batch.settle(next, kafkaFailure(error));
      next++;
    }
    return next;
  }

  private scheduleRetry(): void {
    if (this.retryTimer === null) this.retryTimer = setTimeout(this.retry, BACKLOG_RETRY_MS);
  }
}

/**
 * node-rdkafka destroys the client on its thread pool, and until that is done it still counts as
 * connected: a poll from the interval meanwhile calls librdkafka on a handle being freed (a SIGSEGV,
 * or "pure virtual method called": 4 of 121 runs of test/kafka/produce-spans.test.ts here). So the
 * polling stops first; disconnect's own flush still serves the last delivery reports.
 */
export function stopPollingThenDisconnect(producer: Producer, done: () => void): void {
  producer.setPollInterval(0);
  producer.disconnect(() => done());
}

/**
 * The Kafka sink (DESIGN.md §7): one shared producer per delivery mode, acks=all, idempotent,
 * compressed. Guaranteed requests are answered from delivery reports; `message.timeout.ms` is the
 * configured delivery timeout, so no request waits longer. While the brokers are unreachable or the
 * queue is full the sink says so, and new requests are refused at once with 503.
 */
export class KafkaSink implements Sink {
  readonly type = 'kafka' as const;
  private readonly producers: Record<Mode, ModeProducer>;
  private down: string | null = 'connecting to Kafka';
  private probeTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly warnings: RateLimitedLog;

  constructor(
    config: Config,
    private readonly log: Logger,
    stats: KafkaStats,
  ) {
    this.warnings = new RateLimitedLog(log);
    const kafka = config.sink.kafka;
    const base: RdkafkaConf = {
      'client.id': config.service_name,
      acks: 'all',
      'enable.idempotence': true,
      'compression.codec': 'lz4',
      'queue.buffering.max.messages': QUEUE_MAX_MESSAGES,
      // librdkafka expires timed-out messages between reconnect attempts: keep those close together.
      'reconnect.backoff.max.ms': 1000,
      ...kafka.conf,
      'message.timeout.ms': kafka.delivery_timeout_ms,
    };
    const onError = (mode: Mode, err: LibrdKafkaError) => this.onProducerError(mode, err);
    this.producers = {
      guaranteed: new ModeProducer('guaranteed', { 'linger.ms': DEFAULT_LINGER_MS.guaranteed, ...base, ...kafka.guaranteed, 'client.id': `${base['client.id']}-guaranteed` }, onError, stats),
      hasty: new ModeProducer('hasty', { 'linger.ms': DEFAULT_LINGER_MS.hasty, ...base, ...kafka.hasty, 'client.id': `${base['client.id']}-hasty` }, onError, stats),
    };
    for (const p of Object.values(this.producers)) this.connect(p);
  }

  /** Hands the batch over in runs of messages with the same topic and delivery mode. */
  send(batch: MessageBatch): void {
    let from = 0;
    while (from < batch.size) {
      const hasty = batch.hasty(from);
      const topic = batch.topic(from);
      let to = from + 1;
      while (to < batch.size && batch.hasty(to) === hasty && batch.topic(to) === topic) to++;
      (hasty ? this.producers.hasty : this.producers.guaranteed).send(batch, from, to, this.down);
      from = to;
    }
  }

  unavailable(): SinkUnavailable | null {
    if (this.down !== null) return { reason: this.down, full: false };
    const waiting = this.producers.guaranteed.backlog.size + this.producers.hasty.backlog.size;
    return waiting > 0 ? { reason: `producer queue full (${waiting} messages waiting for room)`, full: true } : null;
  }

  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    await Promise.all(Object.values(this.producers).map((p) => this.flushAndDisconnect(p, timeoutMs)));
  }

  private connect(p: ModeProducer): void {
    p.producer.connect({ timeout: PROBE_TIMEOUT_MS }, (err) => {
      if (this.closed) return;
      if (err) {
        this.markDown(`cannot connect ${p.mode} producer: ${err.message}`);
        setTimeout(() => this.connect(p), PROBE_DOWN_MS).unref();
        return;
      }
      p.connected = true;
      p.producer.setPollInterval(POLL_MS[p.mode]);
      if (Object.values(this.producers).every((q) => q.connected)) this.markUp();
    });
  }

  private onProducerError(mode: Mode, err: LibrdKafkaError): void {
    // node-rdkafka reports some errors with code -1; the message is the stable part.
    if (err.code === CODES.ERRORS.ERR__ALL_BROKERS_DOWN || /all broker connections are down/i.test(err.message)) {
      this.markDown(`all brokers down (${mode} producer)`);
    } else {
      this.warnings.warn(`kafka-${mode}-${err.code}`, { mode, code: err.code, err: err.message }, 'kafka producer error');
    }
  }

  private markDown(reason: string): void {
    if (this.down === null) this.log.warn({ reason }, 'kafka sink down');
    this.down = reason;
    this.scheduleProbe(PROBE_DOWN_MS);
  }

  private markUp(): void {
    if (this.down !== null) this.log.info('kafka sink up');
    this.down = null;
    this.scheduleProbe(PROBE_UP_MS);
  }

  /** Brokers coming back are noticed by asking for metadata; librdkafka reconnects by itself. */
  private scheduleProbe(delayMs: number): void {
    if (this.closed) return;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => this.probe(), delayMs);
    this.probeTimer.unref();
  }

  private probe(): void {
    const p = this.producers.guaranteed;
    if (!p.connected) return this.scheduleProbe(PROBE_DOWN_MS);
    p.producer.getMetadata({ timeout: PROBE_TIMEOUT_MS }, (err) => {
      if (this.closed) return;
      if (err) this.markDown(`kafka metadata request failed: ${err.message}`);
      else if (this.producers.hasty.connected) this.markUp();
      else this.scheduleProbe(PROBE_DOWN_MS);
    });
  }

  private async flushAndDisconnect(p: ModeProducer, timeoutMs: number): Promise<void> {
    if (!p.connected) return;
    const deadline = Date.now() + timeoutMs;
    while (p.backlog.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, BACKLOG_RETRY_MS));
    await new Promise<void>((resolve) => {
      p.producer.flush(Math.max(0, deadline - Date.now()), (err) => {
        if (err || p.backlog.size > 0) {
          this.log.warn({ mode: p.mode, err: err?.message, unsettled: p.ledger.pending, waiting: p.backlog.size }, 'kafka flush at shutdown incomplete');
        }
        stopPollingThenDisconnect(p.producer, resolve);
      });
    });
  }
}
