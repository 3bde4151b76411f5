import { Counter as PromCounter, Gauge, Histogram as PromHistogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A metric with its labels bound: what hot paths keep, so they never hash label objects. */
export interface Counter {
  inc(value?: number): void;
}
export interface Histogram {
  observe(value: number): void;
}

/**
 * Every metric Sluice exports, defined once (DESIGN.md §8). Labels take values only from configured
 * streams and fixed enums; anything else is folded into `other` by the code that records.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new PromCounter({
    name: 'sluice_http_requests_total',
    help: 'HTTP requests answered, by route and status code.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new PromHistogram({
    name: 'sluice_http_request_duration_seconds',
    help: 'Time from request start to response, by route and mode (guaranteed, hasty, other).',
    labelNames: ['route', 'mode'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly events = new PromCounter({
    name: 'sluice_events_total',
    help: 'Events by stream and final outcome (success, invalid, error).',
    labelNames: ['stream', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly eventBytes = new PromCounter({
    name: 'sluice_event_bytes_total',
    help: 'Serialized bytes of events handed to the sink, by stream.',
    labelNames: ['stream'] as const,
    registers: [this.registry],
  });

  readonly validationErrors = new PromCounter({
    name: 'sluice_validation_errors_total',
    help: 'Events refused or failed in the workers, by stream and error_type.',
    labelNames: ['stream', 'error_type'] as const,
    registers: [this.registry],
  });

  readonly batchRequests = new PromHistogram({
    name: 'sluice_batch_size_requests',
    help: 'Requests carried by one worker task.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  readonly batchEvents = new PromHistogram({
    name: 'sluice_batch_size_events',
    help: 'Events carried by one worker task.',
    buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000],
    registers: [this.registry],
  });

  readonly poolQueueDepth = new Gauge({
    name: 'sluice_pool_queue_depth',
    help: 'Requests waiting for a worker task.',
    registers: [this.registry],
  });

  readonly poolUtilization = new Gauge({
    name: 'sluice_pool_utilization',
    help: 'Share of worker task slots busy (0..1), sampled every second.',
    registers: [this.registry],
  });

  readonly sinkQueueMessages = new Gauge({
    name: 'sluice_sink_queue_messages',
    help: 'Messages handed to the sink and not yet settled.',
    registers: [this.registry],
  });

  readonly sinkDelivery = new PromHistogram({
    name: 'sluice_sink_delivery_seconds',
    help: 'Time from handing a batch to the sink until its last message settled.',
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [this.registry],
  });

  readonly sinkErrors = new PromCounter({
    name: 'sluice_sink_errors_total',
    help: 'Messages the sink failed to persist, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly inflightBytes = new Gauge({
    name: 'sluice_inflight_bytes',
    help: 'Request body bytes accepted and not yet answered and settled.',
    registers: [this.registry],
  });

  readonly errorEvents = new PromCounter({
    name: 'sluice_error_events_total',
    help: 'Error events (DESIGN.md §6) by result: produced or failed.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly schemaCache = new PromCounter({
    name: 'sluice_schema_cache_total',
    help: 'Schema lookups in the workers: hit (compiled), negative (a remembered failure or refused URI), miss (loaded), error (the load failed retryably: repository unreachable).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly schemaLoad = new PromHistogram({
    name: 'sluice_schema_load_seconds',
    help: 'Time a worker took to load and compile a schema it did not have (file or HTTP, failures included).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly streamConfigRefreshes = new PromCounter({
    name: 'sluice_stream_config_refresh_total',
    help: 'Stream-config loads by result: updated (a new document), unchanged, failed (the last good config is kept).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly streamConfigLastSuccess = new Gauge({
    name: 'sluice_stream_config_last_success_timestamp_seconds',
    help: 'When the stream config was last loaded successfully (Unix time).',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
  }
}
