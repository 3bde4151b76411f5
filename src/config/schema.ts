/**
 * The configuration's own JSON Schema. Defaults live here (Ajv `useDefaults` fills them), so a key's
 * name, type and default are declared once. Unknown keys are refused: a typo must stop the start.
 */

const positiveInt = { type: 'integer', minimum: 1 } as const;
const nonNegativeInt = { type: 'integer', minimum: 0 } as const;
/** Where a document is read from: a local path or a remote URL. */
const location = { type: 'string', pattern: '^(file:|https?://)' } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
/** librdkafka properties: free-form names, scalar values. */
const rdkafkaConf = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, default: {} } as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    service_name: { type: 'string', minLength: 1, default: 'sluice' },
    listen: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8192 },
      },
    },
    schemas: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        base_uris: { type: 'array', items: location, minItems: 1, default: ['file:schemas/'] },
        uri_field: {
          anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }],
          default: '$schema',
        },
        file_extension: { type: 'string', pattern: '^\\.[A-Za-z0-9]+$', default: '.yaml' },
        allow_absolute_uris: { type: 'boolean', default: false },
        allow_insecure: { type: 'boolean', default: false },
        negative_cache_seconds: { type: 'number', minimum: 0, default: 10 },
        precache: { type: 'array', items: { type: 'string' }, default: [] },
        http_timeout_ms: { ...positiveInt, default: 5000 },
        http_max_bytes: { ...positiveInt, default: 1048576 },
        http_concurrency: { ...positiveInt, default: 8 },
      },
    },
    streams: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        config: { anyOf: [location, { type: 'null' }], default: null },
        config_path: { type: ['string', 'null'], pattern: '^[^.]+(\\.[^.]+)*$', default: null },
        fallback: { anyOf: [location, { type: 'null' }], default: null },
        ttl_seconds: { type: 'number', minimum: 1, default: 300 },
        http_timeout_ms: { ...positiveInt, default: 10000 },
        http_max_bytes: { ...positiveInt, default: 16777216 },
        stream_field: { type: 'string', minLength: 1, default: 'meta.stream' },
        topic_prefix: { type: 'string', default: '' },
      },
    },
    error_stream: { type: ['string', 'null'], default: null },
    defaults: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        id_field: { type: ['string', 'null'], default: 'meta.id' },
        dt_field: { type: ['string', 'null'], default: 'meta.dt' },
        headers_to_fields: { ...stringMap, default: { 'x-request-id': 'meta.request_id' } },
        client_ip_field: { type: ['string', 'null'], default: null },
        trusted_proxies: { type: 'array', items: { type: 'string' }, default: ['127.0.0.1', '::1'] },
      },
    },
    sink: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        type: { enum: ['file', 'kafka', 'null'], default: 'file' },
        file: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            dir: { type: 'string', minLength: 1, default: 'data/events' },
            fsync: { enum: ['batch', 'none'], default: 'batch' },
          },
        },
        kafka: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            conf: rdkafkaConf,
            hasty: rdkafkaConf,
            guaranteed: rdkafkaConf,
            delivery_timeout_ms: { ...positiveInt, default: 30000 },
          },
        },
      },
    },
    pool: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        threads: { anyOf: [{ const: 'auto' }, positiveInt], default: 'auto' },
        max_batch_requests: { ...positiveInt, default: 64 },
        max_batch_bytes: { ...positiveInt, default: 1048576 },
        // The pace between batches (src/batching/coalescer.ts). 300 rather than DESIGN.md's 500: a shorter
        // wait leaves more of a client's connections free near the peak (lower p99 in 21 of 32 A/B rounds at
        // 1 event/req), the 50 events/req peak did not move, and moderate load costs ~10 % more CPU per
        // request (bench/RESULTS.md, 2026-12-07 fourth).
        max_batch_delay_us: { ...nonNegativeInt, default: 300 },
        max_tasks_per_thread: { ...positiveInt, default: 2 },
        max_worker_heap_mb: { anyOf: [{ type: 'null' }, { type: 'integer', minimum: 16 }], default: null },
        // In the 2-core bench, 3 to 8 all helped at 1 event/req and 10 to 19 did no better (bench/RESULTS.md).
        worker_nice: { type: 'integer', minimum: 0, maximum: 19, default: 5 },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_body_bytes: { ...positiveInt, default: 4194304 },
        max_event_bytes: { ...positiveInt, default: 1000000 },
        max_inflight_bytes: { ...positiveInt, default: 268435456 },
        shutdown_timeout_ms: { ...positiveInt, default: 10000 },
        body_timeout_s: { ...positiveInt, default: 10 },
      },
    },
    cors: {
      anyOf: [{ const: false }, { const: '*' }, { type: 'array', items: { type: 'string', minLength: 1 } }],
      default: false,
    },
    test_events: { type: 'array', items: { type: 'object' }, default: [] },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' } },
    },
    eventstreams: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        port: { type: ['integer', 'null'], minimum: 0, maximum: 65535, default: null },
        allowed_streams: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
        topic_prefixes: { anyOf: [{ type: 'null' }, { type: 'array', items: { type: 'string' }, minItems: 1 }], default: null },
        kafka: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: { conf: rdkafkaConf, timeout_ms: { ...positiveInt, default: 10000 } },
        },
        max_clients: { ...positiveInt, default: 500 },
        max_clients_per_ip: { ...positiveInt, default: 10 },
        retry_after_s: { ...positiveInt, default: 10 },
        keepalive_ms: { ...positiveInt, default: 15000 },
        poll_interval_ms: { ...positiveInt, default: 100 },
        max_buffered_bytes: { ...positiveInt, default: 4194304 },
        max_stall_ms: { ...positiveInt, default: 30000 },
        discovery_interval_ms: { ...positiveInt, default: 30000 },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        path: { type: 'string', pattern: '^/', default: '/metrics' },
        port: { type: ['integer', 'null'], minimum: 0, maximum: 65535, default: null },
      },
    },
  },
} as const;
