import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Metrics } from '../metrics';
import { RequestKinds } from '../outcomes';
import { isHead, jsonReply, metaWithoutCors, problemReply, requestIdOf, type Reply, type ResponseMeta } from './respond';
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
    const scrapeRoute = (res: HttpResponse, req: HttpRequest): void => {
      const meta = metaOf(req);
      scrape(res, metrics, (reply) => this.send(res, meta, reply, METRICS_ROUTE));
    };
    const healthRoute = (res: HttpResponse, req: HttpRequest): void => this.send(res, metaOf(req), jsonReply(200, { status: 'ok' }), '/healthz');
    this.app.get(path, scrapeRoute).head(path, scrapeRoute);
    this.app.get('/healthz', healthRoute).head('/healthz', healthRoute);
    this.app.any('/*', (res, req) => this.send(res, metaOf(req), problemReply(RequestKinds.NotFound, `only GET ${path} and /healthz are served on this port`), 'other'));
  }

  listen(host: string, port: number): Promise<number> {
    return this.socket.listen(host, port);
  }

  close(): void {
    this.socket.close();
  }

  private send(res: HttpResponse, meta: ResponseMeta, reply: Reply, route: string): void {
    sendCounted(this.metrics, res, meta, reply, route);
  }
}

function metaOf(req: HttpRequest): ResponseMeta {
  return metaWithoutCors(requestIdOf(req), isHead(req));
}
