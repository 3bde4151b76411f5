import type { Metrics } from '../metrics';

/** The part of librdkafka's statistics JSON (STATISTICS.md) that Sluice exports. */
interface RdkafkaStats {
  msg_cnt: number;
  brokers: Record<string, { name: string; state: string; rtt: { avg: number; p99: number }; outbuf_msg_cnt: number; txerrs: number }>;
}

const MICROSECONDS = 1e6;

/**
 * librdkafka statistics (emitted every `statistics.interval.ms`, off by default) as gauges. Runs once
 * per interval per producer, far from the hot path.
 */
export class KafkaStats {
  /** librdkafka's txerrs is cumulative per broker; the counter advances by what changed. */
  private readonly txErrors = new Map<string, number>();

  constructor(private readonly metrics: Metrics) {}

  /** `event`: node-rdkafka's 'event.stats' payload, `{ message: <JSON text> }`. */
  record(mode: string, event: { message: string }): void {
    let stats: RdkafkaStats;
    try {
      stats = JSON.parse(event.message) as RdkafkaStats;
    } catch {
      return; // A malformed statistics line costs one interval's gauges, never the process.
    }
    const m = this.metrics;
    m.kafkaQueueMessages.set({ mode }, stats.msg_cnt);
    for (const b of Object.values(stats.brokers)) {
      const broker = b.name;
      m.kafkaBrokerUp.set({ mode, broker }, b.state === 'UP' ? 1 : 0);
      m.kafkaBrokerRtt.set({ mode, broker, stat: 'avg' }, b.rtt.avg / MICROSECONDS);
      m.kafkaBrokerRtt.set({ mode, broker, stat: 'p99' }, b.rtt.p99 / MICROSECONDS);
      m.kafkaBrokerOutbuf.set({ mode, broker }, b.outbuf_msg_cnt);
      this.recordTxErrors(mode, broker, b.txerrs);
    }
  }

  private recordTxErrors(mode: string, broker: string, total: number): void {
    const key = `${mode}\u0000${broker}`;
    const previous = this.txErrors.get(key) ?? 0;
    // The counter must exist at 0 before the first error, so rate() has a baseline.
    this.metrics.kafkaBrokerTxErrors.inc({ mode, broker }, Math.max(0, total - previous));
    this.txErrors.set(key, total);
  }
}
