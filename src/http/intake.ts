import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { Coalescer } from '../batching/coalescer';
import { BufferPool, PoolSizes } from '../batching/buffer-pool';
import type { IntakeRequest, RequestOutcome } from '../batching/request';
import { FLAG_DEFLATE, FLAG_GZIP, FLAG_HASTY } from '../batching/wire';
import type { Config } from '../config/types';
import type { Logger, RateLimitedLog } from '../log';
import type { Metrics } from '../metrics';
import { RequestKinds } from '../outcomes';
import type { Sink } from '../sinks/types';
import { BodyReader, POOLED_BODY_BYTES, type BodyConsumer } from './body-reader';
import { CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE } from './header-bytes';
import type { ClientAddress } from './client-address';
import type { Cors } from './cors';
import { InflightBudget } from './inflight-budget';
import { ReadingList, type ReadingEntry } from './reading-list';
import { problemReply, responseMeta, writeReply, type Reply, type ResponseMeta } from './respond';
import { RouteMetrics } from './route-metrics';

const ROUTE = '/v1/events';
/** GET /v1/_test/events runs its body through this handler; it is counted under its own route. */
const TEST_ROUTE = '/v1/_test/events';
const ACCEPTED_TYPES = /^(application\/json|text\/plain|application\/reports\+json)\s*(;|$)/i;
const HASTY_VALUES = new Set(['true', '1', 'yes']);
/** Seconds a client should wait after a 503; short, because overload here clears in milliseconds. */
const RETRY_AFTER_SECONDS = '1';
const NO_BODY = Buffer.alloc(0);
/** The answers of the common cases, shared: replies are never modified. */
const CREATED: Reply = { status: 201 };
const ACCEPTED: Reply = { status: 202 };
const BODY_SWEEP_MS = 1000;
/** Bodies up to this size reuse pooled memory; larger ones are rare. */
const MAX_POOLED_BODY_BYTES = 1024 * 1024;
/** Pooled body memory kept while idle. */
const MAX_FREE_BODY_BYTES = 32 * 1024 * 1024;

export interface IntakeDeps {
  readonly config: Config;
  readonly coalescer: Coalescer;
  readonly sink: Sink;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly warnings: RateLimitedLog;
  readonly cors: Cors;
  readonly clientAddress: ClientAddress;
  readonly lifecycle: { readonly draining: boolean };
}

/**
 * POST /v1/events: the checks that need no parsing (method, type, encoding, size, overload), body
 * reading, then hand-off to the coalescer; answers when the outcome comes back (or at once, hasty).
 */
export class IntakeHandler {
  private readonly budget: InflightBudget;
  /** Requests whose body is being read, plus those accepted and not yet completed. */
  private inflightRequests = 0;
  /** Requests whose body is being read (each has its reader), for the late-body sweep. */
  private readonly reading = new ReadingList<Exchange>();
  private readonly sweeper = setInterval(() => this.sweepLateBodies(), BODY_SWEEP_MS).unref();
  private readonly bodyBuffers = new BufferPool(new PoolSizes(POOLED_BODY_BYTES, MAX_POOLED_BODY_BYTES), MAX_FREE_BODY_BYTES);
  private readonly headerNames: string[];
  /** The peer address costs a system call per request: read only when a field will hold it. */
  private readonly recordsClientIp: boolean;
  private readonly intakeRoute: RouteMetrics;
  private readonly testRoute: RouteMetrics;

  constructor(private readonly deps: IntakeDeps) {
    this.budget = new InflightBudget(deps.config.limits.max_inflight_bytes);
    deps.metrics.inflightBytes.sampleFrom(() => this.budget.held);
    deps.metrics.inflightRequests.sampleFrom(() => this.inflightRequests);
    this.headerNames = Object.keys(deps.config.defaults.headers_to_fields).map((h) => h.toLowerCase());
    this.recordsClientIp = deps.config.defaults.client_ip_field !== null;
    this.intakeRoute = new RouteMetrics(deps.metrics, ROUTE);
    this.testRoute = new RouteMetrics(deps.metrics, TEST_ROUTE);
  }

  /** Requests received and not yet completed (answered and, for hasty ones, processed). */
  get pending(): number {
    return this.inflightRequests;
  }

  /**
   * Answers 408 and closes every connection whose body is past its deadline. One sweep a second over
   * the bodies being read costs less than a timer per request.
   */
  private sweepLateBodies(): void {
    const now = performance.now();
    for (const exchange of this.reading.takeWhere((late) => late.reader!.deadline <= now)) {
      if (exchange.reader!.abort()) this.endUnread(exchange, { ...problemReply(RequestKinds.RequestTimeout, `request body not received within limits.body_timeout_s (${this.deps.config.limits.body_timeout_s} s)`), close: true });
    }
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  handle(res: HttpResponse, req: HttpRequest): void {
    const startedAt = performance.now();
    const { config } = this.deps;
    const meta = responseMeta(req, this.deps.cors);
    const requestId = meta.requestId;
    const query = req.getQuery();
    const hasty = query ? HASTY_VALUES.has(new URLSearchParams(query).get('hasty')?.toLowerCase() ?? '') : false;
    const declaredLength = lengthOf(req.getHeader(CONTENT_LENGTH));
    const encoding = req.getHeader(CONTENT_ENCODING).toLowerCase();
    const refusal = this.precheck(req, encoding, declaredLength ?? 0);
    if (refusal) return this.reply(res, meta, refusal, { startedAt, hasty, route: this.intakeRoute });
    const flags = (hasty ? FLAG_HASTY : 0) | (encoding === 'gzip' ? FLAG_GZIP : 0) | (encoding === 'deflate' ? FLAG_DEFLATE : 0);
    const clientIp = this.recordsClientIp ? this.deps.clientAddress.of(res, req) : '';
    const exchange = new Exchange(this, res, meta, startedAt, this.intakeRoute, flags, requestId, clientIp, this.headerValues(req, requestId));
    // A declared body is paid for before it is read; a chunked one chunk by chunk (BodyReader).
    if (!this.take(exchange, declaredLength ?? 0)) return this.reply(res, meta, this.overloaded(), exchange);
    const reader = new BodyReader(res, declaredLength, config.limits.max_body_bytes, config.limits.body_timeout_s * 1000, this.bodyBuffers);
    exchange.reader = reader;
    // Counted from here, so a graceful shutdown also waits for bodies still arriving.
    this.inflightRequests++;
    this.reading.add(exchange);
    reader.read(exchange);
    res.onAborted(() => {
      this.reading.delete(exchange);
      if (reader.abort()) this.settle(exchange);
      exchange.aborted = true;
    });
  }

  /** The configured headers_to_fields values, in order; X-Request-ID is the id this request goes by. */
  private headerValues(req: HttpRequest, requestId: string): string[] {
    const values = new Array<string>(this.headerNames.length);
    for (let h = 0; h < values.length; h++) {
      const name = this.headerNames[h]!;
      values[h] = name === 'x-request-id' ? requestId : req.getHeader(name);
    }
    return values;
  }

  /** Called by an Exchange when its whole body is in. */
  bodyRead(exchange: Exchange): void {
    this.reading.delete(exchange);
  }

  /**
   * Answers a request whose body was not (all) read: too large, over the budget or late. Too large and
   * over budget are not closed: uWS discards the rest of the body, and closing with unread data would
   * make the kernel reset the connection, often before the client has read the answer.
   */
  endUnread(exchange: Exchange, reply: Reply): void {
    this.reading.delete(exchange);
    this.settle(exchange);
    this.reply(exchange.res, exchange.meta, reply, exchange, true);
  }

  /** Runs a body through the same path as a client request (GET /v1/_test/events). */
  runInternal(res: HttpResponse, body: Buffer, meta: ResponseMeta): void {
    const exchange = new Exchange(this, res, meta, performance.now(), this.testRoute, 0, meta.requestId, '', this.headerNames.map(() => ''));
    if (!this.take(exchange, body.length)) return this.reply(res, meta, this.overloaded(), exchange);
    this.inflightRequests++;
    res.onAborted(() => {
      exchange.aborted = true;
    });
    exchange.received(body);
  }

  private precheck(req: HttpRequest, encoding: string, declaredLength: number): Reply | null {
    const { config, sink, lifecycle } = this.deps;
    if (lifecycle.draining) return { ...problemReply(RequestKinds.ShuttingDown, 'this instance is shutting down; retry on another', undefined, { 'Retry-After': RETRY_AFTER_SECONDS }), close: true };
    const type = req.getHeader(CONTENT_TYPE);
    if (!ACCEPTED_TYPES.test(type)) {
      return problemReply(RequestKinds.UnsupportedMediaType, `content type ${type ? JSON.stringify(type) : '(none)'} is not accepted; use application/json, text/plain or application/reports+json`);
    }
    if (encoding !== '' && encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'deflate') {
      return problemReply(RequestKinds.UnsupportedEncoding, `content encoding ${JSON.stringify(encoding)} is not supported; use gzip, deflate or none`);
    }
    if (declaredLength > config.limits.max_body_bytes) return this.tooLarge();
    const unavailable = sink.unavailable();
    if (unavailable !== null) {
      // DESIGN.md §2.3: a full queue is overload, like too many bytes in flight; a sink that is down is not ready.
      const kind = unavailable.full ? RequestKinds.Overloaded : RequestKinds.NotReady;
      return problemReply(kind, `sink unavailable: ${unavailable.reason}`, undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
    }
    return null;
  }

  /** Takes body bytes for `exchange` from the in-flight budget; false when they do not fit. */
  take(exchange: Exchange, bytes: number): boolean {
    if (!this.budget.take(bytes)) return false;
    exchange.reserved += bytes;
    return true;
  }

  /** Ends a request's hold on the server: its budget bytes, its body's memory and its place in the in-flight count. */
  private settle(exchange: Exchange): void {
    this.budget.release(exchange.reserved);
    exchange.reserved = 0;
    exchange.reader?.release();
    this.inflightRequests--;
  }

  overloaded(): Reply {
    const limit = this.deps.config.limits.max_inflight_bytes;
    return problemReply(RequestKinds.Overloaded, `more than limits.max_inflight_bytes (${limit}) in flight`, undefined, { 'Retry-After': RETRY_AFTER_SECONDS });
  }

  tooLarge(): Reply {
    const limit = this.deps.config.limits.max_body_bytes;
    return problemReply(RequestKinds.PayloadTooLarge, `request body is larger than limits.max_body_bytes (${limit} bytes)`, { max_body_bytes: limit });
  }

  /** Called by an Exchange once its whole body is in. */
  accept(exchange: Exchange, body: Buffer): boolean {
    if (body.length === 0) {
      this.settle(exchange);
      this.reply(exchange.res, exchange.meta, problemReply(RequestKinds.EmptyBody, 'request body is empty'), exchange, true);
      return false;
    }
    if (exchange.hasty) this.reply(exchange.res, exchange.meta, ACCEPTED, exchange, true);
    return true;
  }

  submit(request: IntakeRequest): void {
    this.deps.coalescer.submit(request);
  }

  /** Called by an Exchange when its outcome is known. */
  finish(exchange: Exchange, outcome: RequestOutcome): void {
    this.settle(exchange);
    this.warnIfUnseen(exchange, outcome);
    if (exchange.hasty && outcome.problem !== null) this.deps.metrics.hastyRefused.inc({ error_type: outcome.problem.errorType });
    if (exchange.hasty || exchange.aborted) return;
    this.reply(exchange.res, exchange.meta, outcomeReply(outcome, this.deps.sink, this.deps.config.limits.max_body_bytes), exchange, true);
  }

  /**
   * Rate-limited warnings, with the request id, for what no client will act on: anything refused in a
   * hasty request (already answered 202) and server-side failures of a guaranteed one.
   */
  private warnIfUnseen(exchange: Exchange, outcome: RequestOutcome): void {
    const serverSide = outcome.error > 0 || (outcome.problem !== null && outcome.problem.status >= 500);
    const refused = serverSide || outcome.problem !== null || outcome.invalid > 0;
    if (exchange.hasty ? !refused : !serverSide) return;
    const [kind, message] = exchange.hasty ? ['hasty-refused', 'hasty request had refused events (already answered 202)'] : ['request-failed', 'request had events that failed on the server side'];
    this.deps.warnings.warn(
      kind,
      { request_id: exchange.meta.requestId, problem: outcome.problem?.errorType, invalid: outcome.invalid, error: outcome.error, detail: outcome.detail ?? undefined },
      message,
    );
  }

  /** `deferred`: called outside uWS's own callback for this request, so the writes must be corked. */
  private reply(res: HttpResponse, meta: ResponseMeta, reply: Reply, timing: Timing, deferred = false): void {
    if (deferred) res.cork(() => writeReply(res, meta, reply));
    else writeReply(res, meta, reply);
    timing.route.record(reply.status, timing.hasty, timing.startedAt);
  }
}

/** What an answer is measured by. */
interface Timing {
  readonly startedAt: number;
  readonly hasty: boolean;
  readonly route: RouteMetrics;
}

/**
 * One POST in flight: the IntakeRequest the batching layer sees, tied to its HTTP response, and the
 * consumer of its body (methods, not closures: nothing is allocated per request for them).
 */
class Exchange implements IntakeRequest, Timing, BodyConsumer, ReadingEntry {
  aborted = false;
  readingIndex = -1;
  /** Bytes this request holds of the in-flight budget. */
  reserved = 0;
  body: Buffer = NO_BODY;
  /** Where the body came from; it gives the body's memory back when the request settles. */
  reader: BodyReader | null = null;
  readonly receivedAt = Date.now();

  constructor(
    private readonly handler: IntakeHandler,
    readonly res: HttpResponse,
    readonly meta: ResponseMeta,
    readonly startedAt: number,
    readonly route: RouteMetrics,
    readonly flags: number,
    readonly requestId: string,
    readonly clientIp: string,
    readonly headers: string[],
  ) {}

  get hasty(): boolean {
    return (this.flags & FLAG_HASTY) !== 0;
  }

  received(body: Buffer): void {
    this.body = body;
    if (this.handler.accept(this, body)) this.handler.submit(this);
  }

  takeBytes(bytes: number): boolean {
    return this.handler.take(this, bytes);
  }

  bodyReceived(body: Buffer): void {
    this.handler.bodyRead(this);
    this.received(body);
  }

  bodyTooLarge(): void {
    this.handler.endUnread(this, this.handler.tooLarge());
  }

  bodyOverBudget(): void {
    this.handler.endUnread(this, this.handler.overloaded());
  }

  complete(outcome: RequestOutcome): void {
    this.handler.finish(this, outcome);
  }
}

/** A Content-Length header as a number, or null when absent or not a number (read as chunked). */
function lengthOf(header: string): number | null {
  const length = header === '' ? NaN : Number(header);
  return Number.isFinite(length) ? length : null;
}

/** DESIGN.md §2.3: status and body from the counts of a guaranteed request. */
function outcomeReply(outcome: RequestOutcome, sink: Sink, maxBodyBytes: number): Reply {
  if (outcome.problem !== null) {
    const extra = outcome.problem === RequestKinds.PayloadTooLarge ? { max_body_bytes: maxBodyBytes } : undefined;
    return problemReply(outcome.problem, outcome.detail ?? outcome.problem.title, extra);
  }
  const { success, invalid, error } = outcome;
  if (invalid === 0 && error === 0) return CREATED;
  const total = success + invalid + error;
  const invalidItems = outcome.invalidItems ?? '';
  const errorItems = outcome.errorItems ?? '';
  const reason = `${success} of ${total} events accepted`;
  if (success === 0 && error === 0) return { status: 400, reason, contentType: 'application/json', body: `{"invalid":[${invalidItems}]}` };
  const body = `{"invalid":[${invalidItems}],"error":[${errorItems}]}`;
  if (success > 0) return { status: 207, reason, contentType: 'application/json', body };
  const sinkDown = sink.unavailable() !== null;
  return sinkDown
    ? { status: 503, reason, contentType: 'application/json', body, headers: { 'Retry-After': RETRY_AFTER_SECONDS } }
    : { status: 500, reason, contentType: 'application/json', body };
}
