import { Counter as PromCounter, Gauge, Histogram as PromHistogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LocalCounter, LocalHistogram, SampledCounter, SampledGauge } from './local-metrics';
import { ThreadCpuWait } from './thread-cpu-wait';

/**
 * A metric with its labels bound, what per-request paths keep. Only Local* children (local-metrics.ts)
 * skip label hashing; prom-client's own children hash their labels on every call.
 */
export interface Counter {
  inc(value?: number): void;
}
export interface Histogram {
  observe(value: number): void;
}

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): PromCounter<L> {
  return new PromCounter({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(registry: Registry, name: string, help: string, buckets: number[], labelNames: readonly L[] = []): PromHistogram<L> {
  return new PromHistogram({ name, help, buckets, labelNames, registers: [registry] });
}

/**
 * Every metric Sluice exports, defined once (DESIGN.md §8). Labels take values only from configured
 * streams and fixed enums; anything else is folded into `other` by the code that records.
 */
export class Metrics {
  readonly registry = new Registry();

  // Counted and observed once per request: Local* families, whose children do not hash labels per call.
  readonly httpRequests = new LocalCounter(this.registry, 'sluice_http_requests_total', 'HTTP requests answered, by route and status code.', ['route', 'status']);

  readonly httpDuration = new LocalHistogram(this.registry, 'sluice_http_request_duration_seconds', 'Time from request start to response, by route and mode (guaranteed, hasty, other).', [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], ['route', 'mode']);

  readonly events = counter(this.registry, 'sluice_events_total', 'Events by stream and final outcome (success, invalid, error).', ['stream', 'outcome']);

  readonly eventBytes = counter(this.registry, 'sluice_event_bytes_total', 'Serialized bytes of events handed to the sink, by stream.', ['stream']);

  readonly hastyRefused = counter(this.registry, 'sluice_hasty_refused_requests_total', 'Hasty requests answered 202 whose body was then refused whole (malformed JSON, too large once inflated…), by error_type. No event of theirs is counted in sluice_events_total.', ['error_type']);

  readonly validationErrors = counter(this.registry, 'sluice_validation_errors_total', 'Events refused or failed in the workers, by stream, schema (repository key; other when unknown) and error_type.', ['stream', 'schema_uri', 'error_type']);

  readonly batchRequests = histogram(this.registry, 'sluice_batch_size_requests', 'Requests carried by one worker task.', [1, 2, 4, 8, 16, 32, 64, 128, 256]);

  readonly batchEvents = histogram(this.registry, 'sluice_batch_size_events', 'Events carried by one worker task.', [1, 10, 50, 100, 500, 1000, 5000, 10000]);

  readonly taskStages = new LocalHistogram(this.registry, 'sluice_task_stage_seconds', 'Time a worker task spent in each stage: batching (its first request waiting for the task to be sent), to_worker (sent until a worker started it: queued behind other tasks or waking the worker), worker (parse, validate, serialize), to_main (finished until the HTTP thread took the result: a busy event loop shows here).', [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], ['stage']);

  readonly poolQueueDepth = gauge(this.registry, 'sluice_pool_queue_depth', 'Requests waiting for a worker task.');

  readonly poolUtilization = gauge(this.registry, 'sluice_pool_utilization', 'Share of worker task slots busy (0..1), sampled every second.');

  readonly sinkQueueMessages = gauge(this.registry, 'sluice_sink_queue_messages', 'Messages handed to the sink and not yet settled.');

  readonly sinkDelivery = histogram(this.registry, 'sluice_sink_delivery_seconds', 'Time from handing a batch to the sink until its last message settled.', [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30]);

  readonly sinkErrors = counter(this.registry, 'sluice_sink_errors_total', 'Messages the sink failed to persist, by reason.', ['reason']);

  // Read from the intake handler when scraped: they change twice per request.
  readonly inflightBytes = new SampledGauge(this.registry, 'sluice_inflight_bytes', 'Request body bytes held: being read, or accepted and not yet answered and settled (limits.max_inflight_bytes).');

  readonly inflightRequests = new SampledGauge(this.registry, 'sluice_inflight_requests', 'Intake requests being read, validated or delivered (hasty ones until their events are settled).');

  readonly cpuWait = new SampledCounter(this.registry, 'sluice_cpu_wait_seconds_total', "Seconds Sluice's threads were ready to run but waited for a CPU (Linux schedstat), by thread: main (HTTP, hand-off, answers), librdkafka, other (validation workers, libuv, V8). When it climbs with the latency tail, the machine is short of cores.", 'thread');

  readonly errorEvents = counter(this.registry, 'sluice_error_events_total', 'Error events (DESIGN.md §6) by result: produced, failed (the sink did not persist it) or dropped (never made: the /error/1.0.0 schema could not be loaded or used, or the error event did not pass it).', ['result']);

  readonly schemaCache = counter(this.registry, 'sluice_schema_cache_total', 'Schema lookups in the workers: hit (compiled), negative (a remembered failure or refused URI), miss (loaded), error (the load failed retryably: repository unreachable).', ['result']);

  readonly schemaLoad = histogram(this.registry, 'sluice_schema_load_seconds', 'Time a worker took to load and compile a schema it did not have (file or HTTP, failures included).', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

  readonly streamConfigRefreshes = counter(this.registry, 'sluice_stream_config_refresh_total', 'Stream-config loads by result: updated (a new document), unchanged, failed (the last good config is kept).', ['result']);

  readonly streamConfigLastSuccess = gauge(this.registry, 'sluice_stream_config_last_success_timestamp_seconds', 'When the stream config was last loaded successfully (Unix time).');

  // librdkafka statistics (sinks/kafka-stats.ts), exported only when statistics.interval.ms is set.
  // Broker labels are librdkafka's broker names: bounded by the bootstrap list and the cluster's size.
  readonly kafkaBrokerUp = gauge(this.registry, 'sluice_kafka_broker_up', "1 when librdkafka's connection to the broker is UP, else 0; by producer mode and broker.", ['mode', 'broker']);

  readonly kafkaBrokerRtt = gauge(this.registry, 'sluice_kafka_broker_rtt_seconds', 'Broker round-trip time over the last statistics window, by producer mode, broker and stat (avg, p99).', ['mode', 'broker', 'stat']);

  readonly kafkaBrokerOutbuf = gauge(this.registry, 'sluice_kafka_broker_outbuf_messages', 'Messages waiting to be sent to the broker (outbuf_msg_cnt).', ['mode', 'broker']);

  readonly kafkaBrokerTxErrors = counter(this.registry, 'sluice_kafka_broker_tx_errors_total', 'Transmission errors to the broker (txerrs).', ['mode', 'broker']);

  readonly kafkaQueueMessages = gauge(this.registry, 'sluice_kafka_queue_messages', "Messages in librdkafka's producer queue, waiting or in flight (msg_cnt), by producer mode.", ['mode']);

  // EventStreams (eventstreams/). Stream labels: allowed_streams only.
  readonly sseClients = gauge(this.registry, 'sluice_eventstreams_clients', 'EventStreams clients admitted now (opening their consumer or streaming).');

  readonly sseConsumers = gauge(this.registry, 'sluice_eventstreams_consumers', 'Kafka consumers open for EventStreams clients (created and not yet closed).');

  readonly sseConnections = counter(this.registry, 'sluice_eventstreams_connections_total', 'EventStreams connections accepted, by requested stream.', ['stream']);

  readonly sseEvents = counter(this.registry, 'sluice_eventstreams_events_sent_total', 'Events written to EventStreams clients, by stream.', ['stream']);

  readonly sseBytes = counter(this.registry, 'sluice_eventstreams_bytes_sent_total', 'Bytes written to EventStreams clients (events and keep-alives).');

  readonly sseDisconnects = counter(this.registry, 'sluice_eventstreams_disconnects_total', 'EventStreams connections ended, by reason: client_closed, slow_client, kafka_error, shutdown.', ['reason']);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
    const cpuWait = ThreadCpuWait.open();
    if (cpuWait !== null) this.cpuWait.sampleFrom(() => cpuWait.read());
  }
}
