import type { HttpResponse } from 'uWebSockets.js';
import type { Metrics } from '../metrics';
import { writeReply, type Reply, type ResponseMeta } from './respond';

/** Route label of every scrape, whatever `metrics.path` is, so dashboards need not know it. */
export const METRICS_ROUTE = 'metrics';

/**
 * Answers GET <metrics.path>. The registry renders asynchronously (collect callbacks), so the answer
 * is written later, corked, unless the client has gone.
 */
export function scrape(res: HttpResponse, metrics: Metrics, send: (reply: Reply) => void): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  const { registry } = metrics;
  void registry.metrics().then((text) => {
    if (!aborted) res.cork(() => send({ status: 200, contentType: registry.contentType, body: text }));
  });
}

/** Writes a reply and counts it in sluice_http_requests_total{route,status}. */
export function sendCounted(metrics: Metrics, res: HttpResponse, meta: ResponseMeta, reply: Reply, route: string): void {
  writeReply(res, meta, reply);
  metrics.httpRequests.labels(route, String(reply.status)).inc();
}
