import { Producer, CODES, type LibrdKafkaError, type DeliveryReport } from 'node-rdkafka';
import type { Config, RdkafkaConf } from '../config/types';
import { RateLimitedLog, type Logger } from '../log';
import type { MessageBatch, Sink } from './types';

type Mode = 'guaranteed' | 'hasty';

/** How long new requests are refused after librdkafka reported its queue full. */
const QUEUE_FULL_BACKOFF_MS = 250;
const PROBE_UP_MS = 10_000;
const PROBE_DOWN_MS = 1_000;
const PROBE_TIMEOUT_MS = 2_000;
/** Delivery reports are served by polling; guaranteed requests wait on them, so poll often. */
const POLL_MS: Record<Mode, number> = { guaranteed: 1, hasty: 10 };
const DEFAULT_LINGER_MS: Record<Mode, number> = { guaranteed: 1, hasty: 20 };
/** Slots of the delivery ledger: a power of two above librdkafka's default queue bound. */
const LEDGER_SLOTS = 1 << 17;
const QUEUE_MAX_MESSAGES = 100_000;
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

/**
 * Matches delivery reports to (batch, index) without a closure or object per message: each message's
 * opaque is a sequence number, and its batch and index sit in a ring of slots until its report comes.
 */
class DeliveryLedger {
  private readonly batches = new Array<MessageBatch | undefined>(LEDGER_SLOTS);
  private readonly indexes = new Int32Array(LEDGER_SLOTS);
  private next = 0;
  pending = 0;

  /** The sequence number for this message, or -1 when its slot is still taken (too much in flight). */
  add(batch: MessageBatch, index: number): number {
    const seq = this.next;
    const slot = seq & (LEDGER_SLOTS - 1);
    if (this.batches[slot] !== undefined) return -1;
    this.batches[slot] = batch;
    this.indexes[slot] = index;
    this.next = (seq + 1) & 0x3fffffff;
    this.pending++;
    return seq;
  }

  settle(seq: number, error: string | null): void {
    const slot = seq & (LEDGER_SLOTS - 1);
    const batch = this.batches[slot];
    if (batch === undefined) return;
    this.release(seq);
    batch.settle(this.indexes[slot]!, error);
  }

  /** Frees a slot whose message never reached librdkafka (the caller settles it). */
  release(seq: number): void {
    this.batches[seq & (LEDGER_SLOTS - 1)] = undefined;
    this.pending--;
  }
}

/** One node-rdkafka producer for one delivery mode, with its ledger. */
class ModeProducer {
  readonly ledger = new DeliveryLedger();
  readonly producer: Producer;
  connected = false;

  constructor(
    readonly mode: Mode,
    conf: RdkafkaConf,
    private readonly onError: (mode: Mode, err: LibrdKafkaError) => void,
  ) {
    const { global, topic } = splitConf(conf);
    this.producer = new Producer({ ...global, dr_cb: true } as never, topic as never);
    this.producer.on('delivery-report', (err: LibrdKafkaError | null, report: DeliveryReport) => {
      this.ledger.settle(report.opaque as number, err ? `kafka: ${err.message}` : null);
    });
    this.producer.on('event.error', (err: LibrdKafkaError) => this.onError(mode, err));
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
  private queueFullUntil = 0;
  private probeTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly warnings: RateLimitedLog;

  constructor(
    config: Config,
    private readonly log: Logger,
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
      guaranteed: new ModeProducer('guaranteed', { 'linger.ms': DEFAULT_LINGER_MS.guaranteed, ...base, ...kafka.guaranteed, 'client.id': `${base['client.id']}-guaranteed` }, onError),
      hasty: new ModeProducer('hasty', { 'linger.ms': DEFAULT_LINGER_MS.hasty, ...base, ...kafka.hasty, 'client.id': `${base['client.id']}-hasty` }, onError),
    };
    for (const p of Object.values(this.producers)) this.connect(p);
  }

  send(batch: MessageBatch): void {
    for (let i = 0; i < batch.size; i++) {
      const target = batch.hasty(i) ? this.producers.hasty : this.producers.guaranteed;
      const error = this.produce(target, batch, i);
      if (error !== null) batch.settle(i, error);
    }
  }

  /** null when handed to librdkafka (its report settles the message later), else why not. */
  private produce(target: ModeProducer, batch: MessageBatch, i: number): string | null {
    if (!target.connected) return `kafka: ${this.down ?? 'producer not connected'}`;
    const seq = target.ledger.add(batch, i);
    if (seq < 0) return this.queueFull();
    try {
      target.producer.produce(batch.topic(i), null, batch.value(i), batch.key(i), batch.timestamp(i), seq);
      return null;
    } catch (err) {
      target.ledger.release(seq);
      const code = (err as LibrdKafkaError).code;
      return code === CODES.ERRORS.ERR__QUEUE_FULL ? this.queueFull() : `kafka: ${(err as Error).message}`;
    }
  }

  private queueFull(): string {
    this.queueFullUntil = Date.now() + QUEUE_FULL_BACKOFF_MS;
    return 'kafka: producer queue full';
  }

  unavailableReason(): string | null {
    if (this.down !== null) return this.down;
    if (Date.now() < this.queueFullUntil) return 'producer queue full';
    return null;
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

  private flushAndDisconnect(p: ModeProducer, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (!p.connected) return resolve();
      p.producer.flush(timeoutMs, (err) => {
        if (err) this.log.warn({ mode: p.mode, err: err.message, unsettled: p.ledger.pending }, 'kafka flush at shutdown incomplete');
        p.producer.disconnect(() => resolve());
      });
    });
  }
}
