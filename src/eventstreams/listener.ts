import type { HttpResponse } from 'uWebSockets.js';
import type { Metrics } from '../metrics';
import { RequestKinds } from '../outcomes';
import { sendCounted } from '../http/metrics-route';
import { metaWithoutCors, problemReply, requestIdOf } from '../http/respond';
import { ListenSocket, uws } from '../http/uws';
import type { EventStreamsRoute } from './route';

/**
 * The listener of `eventstreams.port`: only /v2/stream, so long-lived streams can be routed,
 * firewalled and connection-limited apart from intake. Same thread as the intake app.
 */
export class EventStreamsListener {
  private readonly app = uws.App();
  private readonly socket = new ListenSocket(this.app);

  constructor(route: EventStreamsRoute, metrics: Metrics) {
    route.mount(this.app);
    this.app.any('/*', (res: HttpResponse, req) => {
      const reply = problemReply(RequestKinds.NotFound, 'only GET /v2/stream/{streams} is served on this port');
      sendCounted(metrics, res, metaWithoutCors(requestIdOf(req)), reply, 'other');
    });
  }

  listen(host: string, port: number): Promise<number> {
    return this.socket.listen(host, port);
  }

  close(): void {
    this.socket.close();
  }
}
