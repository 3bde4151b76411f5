import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Metrics } from '../metrics';
import { RequestKinds } from '../outcomes';
import { jsonReply, metaWithoutCors, problemReply, requestIdOf, type Reply } from './respond';
import { METRICS_ROUTE, scrape, sendCounted } from './metrics-route';
import { ListenSocket, uws } from './uws';

/**
 * The listener of `metrics.port`: GET <metrics.path> and /healthz only. Its own socket and accept
 * queue keep scrapes from waiting behind intake connections, and the port can be firewalled apart.
 * It is a second uWS app on the same thread (not node:http) so replies share one writer; it does not
 * isolate scrapes from a saturated main thread.
 */
export class MetricsListener {
  private readonly app: TemplatedApp = uws.App();
  private readonly socket = new ListenSocket(this.app);

  constructor(
    path: string,
    private readonly metrics: Metrics,
  ) {
    this.app.get(path, (res, req) => {
      const requestId = requestIdOf(req);
      scrape(res, metrics, (reply) => this.send(res, requestId, reply, METRICS_ROUTE));
    });
    this.app.get('/healthz', (res, req) => this.send(res, requestIdOf(req), jsonReply(200, { status: 'ok' }), '/healthz'));
    this.app.any('/*', (res, req) => this.send(res, requestIdOf(req), problemReply(RequestKinds.NotFound, `only GET ${path} and /healthz are served on this port`), 'other'));
  }

  listen(host: string, port: number): Promise<number> {
    return this.socket.listen(host, port);
  }

  close(): void {
    this.socket.close();
  }

  private send(res: HttpResponse, requestId: string, reply: Reply, route: string): void {
    sendCounted(this.metrics, res, metaWithoutCors(requestId), reply, route);
  }
}
