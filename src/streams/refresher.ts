import type { Config } from '../config/types';
import { isHttpUri } from '../documents/http-get';
import { RateLimitedLog, type Logger } from '../log';
import type { Metrics } from '../metrics';
import { StreamConfigPublisher, type StreamConfigSnapshot } from './broadcast';
import { loadStreamConfig, type StreamConfigLocation } from './source';
import { StreamTable, type StreamConfigDocument } from './stream-config';

const FIRST_RETRY_MS = 250;

/**
 * Owns the stream config of the running process: the first load (Sluice does not serve without
 * one), then a reload every ttl_seconds in the background. A failed reload keeps the last good
 * config; a changed document replaces the table the HTTP routes read and is published to the workers.
 */
export class StreamConfigRefresher {
  private timer: NodeJS.Timeout | undefined;
  private loadedJson: string;
  private readonly warnings: RateLimitedLog;

  private constructor(
    readonly table: StreamTable,
    private readonly publisher: StreamConfigPublisher,
    private readonly primary: StreamConfigLocation,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.loadedJson = JSON.stringify(table.document);
    this.warnings = new RateLimitedLog(log);
    this.schedule();
  }

  /**
   * Loads the first config: from `streams.config`, else from `streams.fallback` when one is set,
   * else a remote config is retried until it answers (a local file that fails stops the start).
   */
  static async start(config: Config, primary: StreamConfigLocation, fallback: StreamConfigLocation | null, log: Logger, metrics: Metrics): Promise<StreamConfigRefresher> {
    const { streams } = config;
    const document = await firstLoad(primary, fallback, streams.ttl_seconds * 1000, log, metrics);
    const table = new StreamTable(document, streams.topic_prefix, config.service_name);
    return new StreamConfigRefresher(table, new StreamConfigPublisher(document), primary, streams.ttl_seconds * 1000, log, metrics);
  }

  /** The current document and its version, for the workers' start (workerData). */
  snapshot(): StreamConfigSnapshot {
    return this.publisher.snapshot();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.publisher.close();
  }

  private schedule(): void {
    // A timeout per round, not an interval: a slow source never has two reloads in flight.
    this.timer = setTimeout(() => void this.refresh().finally(() => this.schedule()), this.intervalMs).unref();
  }

  private async refresh(): Promise<void> {
    let document: StreamConfigDocument;
    try {
      document = await loadStreamConfig(this.primary);
    } catch (err) {
      this.metrics.streamConfigRefreshes.inc({ result: 'failed' });
      this.warnings.warn('stream-config-refresh', { err: (err as Error).message }, 'stream config reload failed; keeping the last good config');
      return;
    }
    succeeded(this.metrics);
    const json = JSON.stringify(document);
    if (json === this.loadedJson) {
      this.metrics.streamConfigRefreshes.inc({ result: 'unchanged' });
      return;
    }
    this.loadedJson = json;
    this.table.replace(document);
    this.publisher.publish(document);
    this.metrics.streamConfigRefreshes.inc({ result: 'updated' });
    this.log.info({ source: this.primary.location, streams: Object.keys(document).length }, 'stream config reloaded');
  }
}

async function firstLoad(primary: StreamConfigLocation, fallback: StreamConfigLocation | null, maxRetryMs: number, log: Logger, metrics: Metrics): Promise<StreamConfigDocument> {
  const warnings = new RateLimitedLog(log);
  for (let retryMs = FIRST_RETRY_MS; ; retryMs = Math.min(retryMs * 2, maxRetryMs)) {
    try {
      const document = await loadStreamConfig(primary);
      succeeded(metrics);
      metrics.streamConfigRefreshes.inc({ result: 'updated' });
      return document;
    } catch (err) {
      metrics.streamConfigRefreshes.inc({ result: 'failed' });
      if (fallback !== null) {
        log.warn({ err: (err as Error).message, fallback: fallback.location }, 'stream config unavailable; starting with the fallback');
        return loadStreamConfig(fallback);
      }
      if (!isHttpUri(primary.location)) throw err;
      warnings.warn('stream-config-first-load', { err: (err as Error).message, retry_ms: retryMs }, 'waiting for the first stream config');
    }
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}

function succeeded(metrics: Metrics): void {
  metrics.streamConfigLastSuccess.set(Date.now() / 1000);
}
