import { Producer, CODES, type LibrdKafkaError } from 'node-rdkafka';
import type { Config, RdkafkaConf } from '../config/types';
import { RateLimitedLog, type Logger } from '../log';
import { BATCHED_DELIVERY_REPORTS, onDeliveryReports } from './kafka-delivery-reports';
import { Backlog, DeliveryLedger } from './kafka-ledger';
import type { KafkaStats } from './kafka-stats';
import type { MessageBatch, Sink, SinkFailure } from './types';

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

/** Why a message could not be handed to librdkafka. */
const enum Refusal {
  None,
  QueueFull,
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

  /** Hands a message to librdkafka, or queues it behind those already waiting; returns a failure. */
  send(batch: MessageBatch, i: number, downReason: string | null): SinkFailure | null {
    if (!this.connected) return { reason: 'kafka_not_connected', message: `kafka: ${downReason ?? 'producer not connected'}` };
    if (this.backlog.size > 0 || this.produce(batch, i) === Refusal.QueueFull) {
      this.backlog.push(batch, i);
      this.scheduleRetry();
    }
    return null;
  }

  /** Offers waiting messages again, oldest first, until librdkafka is full again. */
  drain(): void {
    while (this.backlog.size > 0) {
      const batch = this.backlog.peekBatch();
      const i = this.backlog.peekIndex();
      if (!batch.isSettled(i) && this.produce(batch, i) === Refusal.QueueFull) return this.scheduleRetry();
      this.backlog.shift();
    }
  }

  private produce(batch: MessageBatch, i: number): Refusal {
    const seq = this.ledger.add(batch, i);
    if (seq < 0) return Refusal.QueueFull;
    try {
      this.producer.produce(batch.topic(i), null, batch.value(i), batch.key(i), batch.timestamp(i), seq);
      return Refusal.None;
    } catch (err) {
      this.ledger.release(seq);
      if ((err as LibrdKafkaError).code === CODES.ERRORS.ERR__QUEUE_FULL) return Refusal.QueueFull;
      batch.settle(i, kafkaFailure(err as LibrdKafkaError));
      return Refusal.None;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer === null) this.retryTimer = setTimeout(this.retry, BACKLOG_RETRY_MS);
  }
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

  send(batch: MessageBatch): void {
    for (let i = 0; i < batch.size; i++) {
      const target = batch.hasty(i) ? this.producers.hasty : this.producers.guaranteed;
      const failure = target.send(batch, i, this.down);
      if (failure !== null) batch.settle(i, failure);
    }
  }

  unavailableReason(): string | null {
    if (this.down !== null) return this.down;
    const waiting = this.producers.guaranteed.backlog.size + this.producers.hasty.backlog.size;
    return waiting > 0 ? `producer queue full (${waiting} messages waiting for room)` : null;
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
        p.producer.disconnect(() => resolve());
      });
    });
  }
}
