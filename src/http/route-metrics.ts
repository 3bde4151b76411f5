import type { Counter, Histogram, Metrics } from '../metrics';

/**
 * sluice_http_requests_total and sluice_http_request_duration_seconds for one route, with label
 * children resolved once: prom-client hashes label objects on every call otherwise.
 */
export class RouteMetrics {
  private readonly byStatus = new Map<number, Counter>();
  private readonly guaranteed: Histogram;
  private readonly hasty: Histogram;

  constructor(
    private readonly metrics: Metrics,
    private readonly route: string,
  ) {
    this.guaranteed = metrics.httpDuration.labels(route, 'guaranteed');
    this.hasty = metrics.httpDuration.labels(route, 'hasty');
  }

  /** One answer: its status, and the time since `startedAt` (performance.now()). */
  record(status: number, hasty: boolean, startedAt: number): void {
    this.counter(status).inc();
    (hasty ? this.hasty : this.guaranteed).observe((performance.now() - startedAt) / 1000);
  }

  private counter(status: number): Counter {
    let counter = this.byStatus.get(status);
    if (!counter) {
      counter = this.metrics.httpRequests.labels(this.route, String(status));
      this.byStatus.set(status, counter);
    }
    return counter;
  }
}
