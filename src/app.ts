import { redactedConfig } from './config/redact';
import type { Config } from './config/types';
import { Coalescer } from './batching/coalescer';
import { WorkerPool, threadCount } from './batching/pool';
import { EventStreamsListener } from './eventstreams/listener';
import { EventStreamsRoute } from './eventstreams/route';
import { ClientAddress } from './http/client-address';
import { Cors } from './http/cors';
import { IntakeHandler } from './http/intake';
import { MetricsListener } from './http/metrics-listener';
import { HttpServer } from './http/server';
import { RateLimitedLog, type Logger } from './log';
import { Metrics } from './metrics';
import { createSink } from './sinks';
import { openHttpBases } from './schemas/http-source';
import { SchemaSourceService } from './schemas/source-relay';
import { StreamConfigRefresher } from './streams/refresher';
import { streamConfigLocation } from './streams/source';
import { packageInfo } from './package-info';

export interface RunningSluice {
  readonly port: number;
  /** The port of the metrics listener, or null when metrics are served on `port`. */
  readonly metricsPort: number | null;
  /** DESIGN.md §7: stop accepting, finish in-flight requests, flush the sink (all bounded). */
  shutdown(): Promise<void>;
}

const DRAIN_POLL_MS = 10;
/** A batch this big goes to a second worker at once: ~1 000 small events, a few ms of one worker's time. */
const SPILL_BATCH_BYTES = 256 * 1024;
/**
 * While the other workers are idle, a batch this big already wakes one: ~250 small events, five
 * 50-event requests. At 25–50 connections of such requests, waiting for 256 KB left the second worker
 * idle and the first one queueing (bench/RESULTS.md); 1-event requests never make a batch this big.
 */
const SPILL_TO_IDLE_BYTES = 64 * 1024;
/** A batch kept waiting this long by the busy worker goes to another: one worker is not keeping up. */
const SPILL_AFTER_MS = 2;

/** Wires config → sink → worker pool → coalescer → HTTP, and starts listening. */
export async function startSluice(config: Config, log: Logger, cwd = process.cwd()): Promise<RunningSluice> {
  log.info({ config: redactedConfig(config) }, 'effective config');
  const metrics = new Metrics();
  const primaryStreams = streamConfigLocation(config.streams, 'config', cwd);
  // Allowed (DESIGN.md §5 step 2), but it is the built-in default, so a short config gets it unasked.
  if (primaryStreams === null) log.warn({ kind: 'no-stream-config' }, 'streams.config is not set: every stream is accepted, with any schema');
  const streamConfig = primaryStreams === null ? null : await StreamConfigRefresher.start(config, primaryStreams, streamConfigLocation(config.streams, 'fallback', cwd), log, metrics);
  const streams = streamConfig?.table ?? null;
  // Workers read http(s) schema bases through this, so all of them share one fetch per schema.
  const schemaSources = new SchemaSourceService(openHttpBases(config.schemas));
  const sink = createSink(config, cwd, log, metrics);
  const pool = new WorkerPool(config, streamConfig?.snapshot() ?? null, sink, metrics, log);
  const threads = threadCount(config.pool.threads);
  const coalescer = new Coalescer(
    {
      maxBatchRequests: config.pool.max_batch_requests,
      maxBatchBytes: config.pool.max_batch_bytes,
      maxBatchDelayUs: config.pool.max_batch_delay_us,
      maxRunningTasks: threads * config.pool.max_tasks_per_thread,
      primaryTasks: config.pool.max_tasks_per_thread,
      spillBytes: SPILL_BATCH_BYTES,
      spillToIdleBytes: SPILL_TO_IDLE_BYTES,
      spillAfterMs: SPILL_AFTER_MS,
    },
    pool,
  );
  const lifecycle = { draining: false };
  const cors = new Cors(config.cors);
  const clientAddress = new ClientAddress(config.defaults.trusted_proxies);
  // One rate limiter for every request-path warning: each kind has its own budget inside it.
  const warnings = new RateLimitedLog(log);
  const intake = new IntakeHandler({
    config,
    coalescer,
    sink,
    metrics,
    log,
    warnings,
    cors,
    clientAddress,
    lifecycle,
  });
  const eventStreams = config.eventstreams.enabled ? new EventStreamsRoute({ config, streams, metrics, warnings, cors, clientAddress }) : null;
  const ownStreamListener = eventStreams !== null && config.eventstreams.port !== null ? new EventStreamsListener(eventStreams, metrics) : null;
  const server = new HttpServer({ config, intake, sink, streams, metrics, cors, lifecycle, info: packageInfo(), eventStreams: ownStreamListener === null ? eventStreams : null });
  const sampler = setInterval(() => {
    metrics.poolQueueDepth.set(coalescer.queuedRequests);
    metrics.poolUtilization.set(coalescer.runningTasks / (threads * config.pool.max_tasks_per_thread));
  }, 1000).unref();
  let metricsListener: MetricsListener | null = null;
  let metricsPort: number | null = null;
  if (config.metrics.port !== null) {
    metricsListener = new MetricsListener(config.metrics.path, metrics);
    metricsPort = await metricsListener.listen(config.listen.host, config.metrics.port);
  }
  const eventStreamsPort = ownStreamListener === null ? null : await ownStreamListener.listen(config.listen.host, config.eventstreams.port!);
  const port = await server.listen(config.listen.host, config.listen.port);
  log.info({ host: config.listen.host, port, metrics_port: metricsPort, eventstreams_port: eventStreamsPort, sink: sink.type, threads, streams: streams ? Object.keys(streams.document).length : null }, 'listening');

  return {
    port,
    metricsPort,
    async shutdown() {
      lifecycle.draining = true;
      server.stopListening();
      ownStreamListener?.close();
      // Streams never finish by themselves: end them first, so their consumers close within the drain.
      const streamsClosed = eventStreams?.close();
      const deadline = Date.now() + config.limits.shutdown_timeout_ms;
      while (intake.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
      if (intake.pending > 0) log.warn({ pending: intake.pending }, 'shutdown timeout: requests still pending');
      clearInterval(sampler);
      intake.stop();
      await sink.close(Math.max(0, deadline - Date.now()));
      await pool.close();
      await streamsClosed;
      streamConfig?.stop();
      schemaSources.close();
      // Last, so the drain itself can be watched.
      metricsListener?.close();
      log.info('shut down');
    },
  };
}
