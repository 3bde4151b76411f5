import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { Config, RdkafkaConf } from '../config/types';
import type { ClientAddress } from '../http/client-address';
import type { Cors } from '../http/cors';
import { sendCounted } from '../http/metrics-route';
import { problemReply, responseMeta, type Reply, type ResponseMeta } from '../http/respond';
import type { RateLimitedLog } from '../log';
import type { Metrics } from '../metrics';
import { RequestKinds } from '../outcomes';
import type { StreamTable } from '../streams/stream-config';
import { ClientLimits } from './client-limits';
import { EventFilter } from './event-filter';
import { parseResume, type ResumeRequest } from './resume';
import { SseSession, type DisconnectReason, type SessionOptions } from './session';
import { consumerConf, StreamConsumer } from './stream-consumer';
import { StreamTopics, type StreamSelection } from './stream-topics';

const STREAM_ROUTE = '/v2/stream/:streams';

export interface EventStreamsDeps {
  readonly config: Config;
  readonly streams: StreamTable | null;
  readonly metrics: Metrics;
  readonly warnings: RateLimitedLog;
  readonly cors: Cors;
  readonly clientAddress: ClientAddress;
}

/** What a request is checked for before any Kafka work: everything read from `req` synchronously. */
interface Admitted {
  readonly selection: StreamSelection;
  readonly resume: ResumeRequest;
  readonly filter: EventFilter | null;
  readonly release: () => void;
}

/**
 * GET /v2/stream/{streams} (DESIGN.md §10): checks the request, takes a connection slot, opens a
 * consumer of its own at the requested positions, then hands the response to an SseSession.
 */
export class EventStreamsRoute {
  private readonly kafkaConf: RdkafkaConf | null;
  private readonly topics: StreamTopics;
  private readonly limits: ClientLimits;
  private readonly sessions = new Set<SseSession>();
  private readonly sessionOptions: SessionOptions;
  private readonly closingConsumers = new Set<Promise<void>>();
  /** Set at shutdown: consumers still opening are closed instead of starting a stream. */
  private closing = false;

  constructor(private readonly deps: EventStreamsDeps) {
    const { config } = deps;
    const es = config.eventstreams;
    this.kafkaConf = consumerConf(config);
    this.topics = new StreamTopics(es.allowed_streams, es.topic_prefixes ?? [config.streams.topic_prefix], deps.streams);
    this.limits = new ClientLimits(es.max_clients, es.max_clients_per_ip);
    this.sessionOptions = { keepaliveMs: es.keepalive_ms, pollIntervalMs: es.poll_interval_ms, maxBufferedBytes: es.max_buffered_bytes, maxStallMs: es.max_stall_ms, discoveryIntervalMs: es.discovery_interval_ms };
  }

  /** Mounts the route on a uWS app. */
  mount(app: { get(pattern: string, handler: (res: HttpResponse, req: HttpRequest) => void): unknown }): void {
    app.get(STREAM_ROUTE, (res, req) => this.handle(res, req));
  }

  /** Ends every stream (shutdown) and resolves once their consumers are closed. */
  async close(): Promise<void> {
    this.closing = true;
    for (const session of [...this.sessions]) session.end('shutdown');
    await Promise.all(this.closingConsumers);
  }

  private handle(res: HttpResponse, req: HttpRequest): void {
    const meta = responseMeta(req, this.deps.cors);
    const admitted = this.admit(res, req);
    if ('status' in admitted) return this.reply(res, meta, admitted);
    let aborted = false;
    let session: SseSession | null = null;
    res.onAborted(() => {
      aborted = true;
      session?.end('client_closed');
    });
    const consumer = this.openConsumer();
    consumer.open([...admitted.selection.topics.keys()], admitted.resume).then(
      (assignments) => {
        if (aborted) return this.discard(consumer, admitted);
        if (this.closing) {
          this.discard(consumer, admitted);
          return res.cork(() => this.reply(res, meta, problemReply(RequestKinds.ShuttingDown, 'shutting down')));
        }
        session = new SseSession(res, consumer, assignments, { topicStreams: admitted.selection.topics, filter: admitted.filter }, this.sessionOptions, this.deps.metrics, (s, reason) => this.ended(s, reason, consumer, admitted));
        this.sessions.add(session);
        this.count(admitted.selection);
        const started = session;
        res.cork(() => {
          started.begin(meta);
          this.deps.metrics.httpRequests.labels(STREAM_ROUTE, '200').inc();
        });
      },
      (err: Error) => {
        this.deps.warnings.warn('eventstreams_open', { err: err.message, topics: [...admitted.selection.topics.keys()] }, 'EventStreams consumer could not be opened');
        this.discard(consumer, admitted);
        if (!aborted) res.cork(() => this.reply(res, meta, problemReply(RequestKinds.StreamSourceUnavailable, `Kafka: ${err.message}`)));
      },
    );
  }

  /** Synchronous checks, in the order a client can fix them; a slot is taken only when all pass. */
  private admit(res: HttpResponse, req: HttpRequest): Admitted | Reply {
    if (this.kafkaConf === null) return problemReply(RequestKinds.StreamSourceUnavailable, 'no Kafka bootstrap.servers configured (sink.kafka.conf or eventstreams.kafka.conf)');
    const selection = this.topics.select(req.getParameter(0) ?? '');
    if (!selection.ok) return problemReply(RequestKinds.UnknownStream, selection.error);
    const resume = parseResume(req.getHeader('last-event-id'), req.getQuery('since') ?? '');
    if (!resume.ok) return problemReply(RequestKinds.BadResumePosition, resume.error);
    const filter = EventFilter.parse(req.getQuery('filter') ?? '');
    if (!filter.ok) return problemReply(RequestKinds.BadFilter, filter.error);
    const slot = this.limits.acquire(this.deps.clientAddress.of(res, req));
    if (typeof slot === 'string') {
      const retryAfter = String(this.deps.config.eventstreams.retry_after_s);
      return problemReply(RequestKinds.TooManyClients, `${slot} reached`, { limit: slot }, { 'Retry-After': retryAfter });
    }
    return { selection: selection.value, resume: resume.value, filter: filter.value, release: slot.release };
  }

  private openConsumer(): StreamConsumer {
    const consumer = new StreamConsumer(this.kafkaConf!, this.deps.config.eventstreams.kafka.timeout_ms, (err) =>
      this.deps.warnings.warn('eventstreams_kafka', { err: err.message, code: err.code }, 'EventStreams consumer error'),
    );
    this.deps.metrics.sseConsumers.inc();
    this.deps.metrics.sseClients.inc();
    return consumer;
  }

  private ended(session: SseSession, reason: DisconnectReason, consumer: StreamConsumer, admitted: Admitted): void {
    this.sessions.delete(session);
    this.deps.metrics.sseDisconnects.labels(reason).inc();
    this.discard(consumer, admitted);
  }

  /** Gives back the slot and closes the consumer; the consumer gauge drops once librdkafka has let go. */
  private discard(consumer: StreamConsumer, admitted: Admitted): void {
    admitted.release();
    this.deps.metrics.sseClients.dec();
    const closing = consumer.close().then(() => {
      this.deps.metrics.sseConsumers.dec();
      this.closingConsumers.delete(closing);
    });
    this.closingConsumers.add(closing);
  }

  private count(selection: StreamSelection): void {
    // Only allowed streams get this far (StreamTopics.select), so the label set stays bounded.
    for (const stream of selection.streams) this.deps.metrics.sseConnections.labels(stream).inc();
  }

  private reply(res: HttpResponse, meta: ResponseMeta, reply: Reply): void {
    sendCounted(this.deps.metrics, res, meta, reply, STREAM_ROUTE);
  }
}
