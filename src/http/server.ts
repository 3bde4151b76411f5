import path from 'node:path';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Config } from '../config/types';
import type { EventStreamsRoute } from '../eventstreams/route';
import type { Metrics } from '../metrics';
import { RequestKinds } from '../outcomes';
import type { Sink } from '../sinks/types';
import type { StreamTable } from '../streams/stream-config';
import { PREFLIGHT_HEADERS, type Cors } from './cors';
import type { IntakeHandler } from './intake';
import { openApiDocument } from './openapi';
import { isHead, jsonReply, problemReply, responseMeta, type Reply, type ResponseMeta } from './respond';
import { METRICS_ROUTE, scrape, sendCounted } from './metrics-route';
import { decodePathParam } from './path-param';
import { ListenSocket, uws } from './uws';

export interface ServerDeps {
  readonly config: Config;
  readonly intake: IntakeHandler;
  readonly sink: Sink;
  readonly streams: StreamTable | null;
  readonly metrics: Metrics;
  readonly cors: Cors;
  readonly lifecycle: { readonly draining: boolean };
  readonly info: { name: string; version: string; description: string; home: string };
  /** Mounted here unless it has a listener of its own (eventstreams.port). */
  readonly eventStreams: EventStreamsRoute | null;
}

/** The uWS app with every route of DESIGN.md §2, and /v2/stream (§10) when enabled without a port of its own. */
export class HttpServer {
  private readonly app: TemplatedApp;
  private readonly socket: ListenSocket;

  constructor(private readonly deps: ServerDeps) {
    this.app = uws.App();
    this.socket = new ListenSocket(this.app);
    this.routes();
  }

  listen(host: string, port: number): Promise<number> {
    return this.socket.listen(host, port);
  }

  /** Stops accepting connections; open connections keep being served until the process exits. */
  stopListening(): void {
    this.socket.close();
  }

  private routes(): void {
    const { config, intake } = this.deps;
    this.app.post('/v1/events', (res, req) => intake.handle(res, req));
    this.deps.eventStreams?.mount(this.app);
    // Not for HEAD: a GET here produces the test events.
    this.get('/v1/_test/events', (res, _req, meta) => this.testEvents(res, meta), { head: false });
    this.get('/v1/stream-configs', () => jsonReply(200, this.deps.streams?.select(null) ?? {}));
    this.get('/v1/stream-configs/:streams', (_res, req) => jsonReply(200, this.selectStreams(req.getParameter(0) ?? '')));
    // With a metrics.port of its own, scrapes are answered there only.
    if (config.metrics.port === null) this.get(config.metrics.path, (res, _req, meta) => this.scrape(res, meta));
    this.get('/healthz', () => jsonReply(200, { status: 'ok' }));
    this.get('/readyz', () => this.readiness());
    this.get('/_info', () => jsonReply(200, this.deps.info));
    this.get('/robots.txt', () => ({ status: 200, contentType: 'text/plain', body: 'User-agent: *\nDisallow: /\n' }));
    this.get('/', (_res, req) =>
      req.getQuery() === 'spec' ? jsonReply(200, openApiDocument(this.deps.info, config.metrics.port === null ? config.metrics.path : null, this.deps.eventStreams !== null)) : notFound(req),
    );
    this.app.options('/*', (res, req) => this.preflight(res, req));
    this.app.any('/*', (res, req) => this.send(res, this.meta(req), notFound(req)));
  }

  /**
   * A GET route, and HEAD on it unless the GET has effects, whose handler returns its reply, or
   * undefined when it answers by itself later.
   */
  private get(pattern: string, handler: (res: HttpResponse, req: HttpRequest, meta: ResponseMeta) => Reply | undefined, { head = true } = {}): void {
    const route = (res: HttpResponse, req: HttpRequest): void => {
      const meta = this.meta(req);
      const reply = handler(res, req, meta);
      if (reply) this.send(res, meta, reply, routeLabel(pattern));
    };
    this.app.get(pattern, route);
    if (head) this.app.head(pattern, route);
  }

  private send(res: HttpResponse, meta: ResponseMeta, reply: Reply, route = 'other'): void {
    sendCounted(this.deps.metrics, res, meta, reply, route);
  }

  private meta(req: HttpRequest): ResponseMeta {
    const meta = responseMeta(req, this.deps.cors);
    return isHead(req) ? { ...meta, headOnly: true } : meta;
  }

  private readiness(): Reply {
    if (this.deps.lifecycle.draining) return problemReply(RequestKinds.ShuttingDown, 'shutting down');
    const unavailable = this.deps.sink.unavailable();
    if (unavailable !== null) return problemReply(RequestKinds.NotReady, `sink ${this.deps.sink.type} unavailable: ${unavailable.reason}`);
    return jsonReply(200, { status: 'ready', sink: this.deps.sink.type });
  }

  private selectStreams(param: string): unknown {
    return this.deps.streams?.select(decodePathParam(param).split(/[,|]/).filter((n) => n !== '')) ?? {};
  }

  private testEvents(res: HttpResponse, meta: ResponseMeta): Reply | undefined {
    const events = this.deps.config.test_events;
    if (events.length === 0) return problemReply(RequestKinds.NotFound, 'no test_events are configured');
    this.deps.intake.runInternal(res, Buffer.from(JSON.stringify(events)), meta);
    return undefined;
  }

  private scrape(res: HttpResponse, meta: ResponseMeta): undefined {
    scrape(res, this.deps.metrics, (reply) => this.send(res, meta, reply, METRICS_ROUTE));
    return undefined;
  }

  private preflight(res: HttpResponse, req: HttpRequest): void {
    const meta = this.meta(req);
    if (!this.deps.cors.enabled) return this.send(res, meta, problemReply(RequestKinds.NotFound, 'CORS is not enabled on this deployment'));
    this.send(res, meta, { status: 204, headers: PREFLIGHT_HEADERS });
  }
}

function notFound(req: HttpRequest): Reply {
  return problemReply(RequestKinds.NotFound, `no route for ${req.getMethod().toUpperCase()} ${req.getUrl()}`);
}

/** Bounded route labels: parameterised routes are labelled by their pattern. */
function routeLabel(pattern: string): string {
  return path.posix.normalize(pattern);
}
