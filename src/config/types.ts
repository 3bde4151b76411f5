/** The validated, defaulted, frozen configuration. Keys mirror DESIGN.md §3 one for one. */

export type RdkafkaConf = Record<string, string | number | boolean>;

export interface Config {
  readonly service_name: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly schemas: {
    readonly base_uris: readonly string[];
    readonly uri_field: string | readonly string[];
    readonly file_extension: string;
    readonly allow_absolute_uris: boolean;
    readonly allow_insecure: boolean;
    readonly negative_cache_seconds: number;
    readonly precache: readonly string[];
    readonly http_timeout_ms: number;
    readonly http_max_bytes: number;
    readonly http_concurrency: number;
  };
  readonly streams: {
    readonly config: string | null;
    readonly config_path: string | null;
    readonly fallback: string | null;
    readonly ttl_seconds: number;
    readonly http_timeout_ms: number;
    readonly http_max_bytes: number;
    readonly stream_field: string;
    readonly topic_prefix: string;
  };
  readonly error_stream: string | null;
  readonly defaults: {
    readonly id_field: string | null;
    readonly dt_field: string | null;
    readonly headers_to_fields: Readonly<Record<string, string>>;
    readonly client_ip_field: string | null;
    readonly trusted_proxies: readonly string[];
  };
  readonly sink: {
    readonly type: 'file' | 'kafka' | 'null';
    readonly file: { readonly dir: string; readonly fsync: 'batch' | 'none' };
    readonly kafka: {
      readonly conf: RdkafkaConf;
      readonly hasty: RdkafkaConf;
      readonly guaranteed: RdkafkaConf;
      readonly delivery_timeout_ms: number;
    };
  };
  readonly pool: {
    readonly threads: 'auto' | number;
    readonly max_batch_requests: number;
    readonly max_batch_bytes: number;
    readonly max_batch_delay_us: number;
    readonly max_tasks_per_thread: number;
    readonly max_worker_heap_mb: number | null;
    /** Added to each worker thread's nice value (Linux), so the I/O thread wins the CPU when both want it. */
    readonly worker_nice: number;
  };
  readonly limits: {
    readonly max_body_bytes: number;
    readonly max_event_bytes: number;
    readonly max_inflight_bytes: number;
    readonly shutdown_timeout_ms: number;
    readonly body_timeout_s: number;
  };
  readonly cors: false | '*' | readonly string[];
  readonly test_events: readonly Record<string, unknown>[];
  readonly log: { readonly level: string };
  /**
   * GET /v2/stream/{streams} (DESIGN.md §10). `port` null: served by the intake listener. `topic_prefixes`
   * null: the one `streams.topic_prefix`. `kafka.conf` is laid over the connection settings of
   * `sink.kafka.conf` (bootstrap, security), so a kafka-sink deployment needs nothing more.
   */
  readonly eventstreams: {
    readonly enabled: boolean;
    readonly port: number | null;
    readonly allowed_streams: readonly string[];
    readonly topic_prefixes: readonly string[] | null;
    readonly kafka: { readonly conf: RdkafkaConf; readonly timeout_ms: number };
    readonly max_clients: number;
    readonly max_clients_per_ip: number;
    readonly retry_after_s: number;
    readonly keepalive_ms: number;
    readonly poll_interval_ms: number;
    readonly max_buffered_bytes: number;
    readonly max_stall_ms: number;
    readonly discovery_interval_ms: number;
  };
  /** `port` null: metrics are served by the intake listener; otherwise by a listener of their own on `listen.host`. */
  readonly metrics: { readonly path: string; readonly port: number | null };
}
