import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { problem, type Problem, type RequestKind } from '../outcomes';
import type { Cors } from './cors';
import { headerBytes, ORIGIN, X_REQUEST_ID } from './header-bytes';
import { uuid } from '../uuid';

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  207: 'Multi-Status',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * The headers every response carries whatever its request (DESIGN.md §2.4). uWS writes the status it is
 * given verbatim after "HTTP/1.1 ", so they go out with the status line in one call instead of one call
 * (and two buffers for uWS to look up) per header.
 */
const FIXED_HEADERS = "\r\nX-Content-Type-Options: nosniff\r\nContent-Security-Policy: default-src 'none'; frame-ancestors 'none'";
const STATUS_LINES = new Map(Object.entries(REASONS).map(([status, reason]) => [Number(status), headerBytes(`${status} ${reason}${FIXED_HEADERS}`)]));
const RESPONSE_REQUEST_ID = headerBytes('X-Request-ID');
const RESPONSE_CONTENT_TYPE = headerBytes('Content-Type');

const JSON_TYPE = 'application/json';
const PROBLEM_TYPE = 'application/problem+json';

/** Per-response values the writer needs besides status and body. */
export interface ResponseMeta {
  readonly requestId: string;
  /** Value for Access-Control-Allow-Origin, or null when CORS does not apply. */
  readonly allowOrigin: string | null;
  /** Send `Vary: Origin`: the CORS headers depend on the request's Origin. */
  readonly varyOrigin: boolean;
  /** A HEAD request: GET's status and headers, Content-Length included, and no body (RFC 9110 §9.3.2). */
  readonly headOnly?: boolean;
}

/** The per-response values of a request: its id and its CORS answer. */
export function responseMeta(req: HttpRequest, cors: Cors): ResponseMeta {
  return { requestId: requestIdOf(req), allowOrigin: cors.enabled ? cors.allowOrigin(req.getHeader(ORIGIN)) : null, varyOrigin: cors.variesByOrigin };
}

export interface Reply {
  readonly status: number;
  /** Replaces the standard reason phrase, e.g. "1 of 2 events accepted". */
  readonly reason?: string;
  readonly contentType?: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly close?: boolean;
}

/**
 * Writes a whole response with the headers every response carries (DESIGN.md §2.4). Callers outside
 * the request's own callback must wrap this in `res.cork()`.
 */
export function writeReply(res: HttpResponse, meta: ResponseMeta, reply: Reply): void {
  writeHead(res, meta, reply);
  if (meta.headOnly) {
    // Given any argument, uWS's endWithoutBody waits for body bytes and the handler fails; so the length
    // is written here and the call gets none. It cannot close the connection then: only intake's
    // (POST) replies ask to.
    res.writeHeader('Content-Length', String(reply.body === undefined ? 0 : Buffer.byteLength(reply.body)));
    res.endWithoutBody();
    return;
  }
  // No body: undefined, not an empty buffer, which uWS would have V8 find a backing store for.
  res.end(reply.body, reply.close ?? false);
}

/** Status line and headers only: for responses whose body is streamed (EventStreams). */
export function writeHead(res: HttpResponse, meta: ResponseMeta, reply: Omit<Reply, 'body' | 'close'>): void {
  const standard = reply.reason === undefined ? STATUS_LINES.get(reply.status) : undefined;
  res.writeStatus(standard ?? `${reply.status} ${reply.reason ?? REASONS[reply.status] ?? ''}${FIXED_HEADERS}`);
  res.writeHeader(RESPONSE_REQUEST_ID, meta.requestId);
  if (meta.allowOrigin !== null) res.writeHeader('Access-Control-Allow-Origin', meta.allowOrigin);
  if (meta.varyOrigin) res.writeHeader('Vary', 'Origin');
  if (reply.contentType) res.writeHeader(RESPONSE_CONTENT_TYPE, reply.contentType);
  if (reply.headers) for (const [name, value] of Object.entries(reply.headers)) res.writeHeader(name, value);
}

export function problemReply(kind: RequestKind, detail: string, extra?: Record<string, unknown>, headers?: Record<string, string>): Reply {
  const body: Problem = problem(kind, detail, extra);
  return { status: kind.status, contentType: PROBLEM_TYPE, body: JSON.stringify(body), headers };
}

export function jsonReply(status: number, value: unknown): Reply {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value) };
}

/** The response meta of a side listener (metrics, EventStreams ports), which answers no CORS. */
export function metaWithoutCors(requestId: string, headOnly = false): ResponseMeta {
  return { requestId, allowOrigin: null, varyOrigin: false, headOnly };
}

/** Whether a request is HEAD, whose answer has no body. */
export function isHead(req: HttpRequest): boolean {
  return req.getMethod() === 'head';
}

/** X-Request-ID from the client, or a new one (DESIGN.md §2.4). */
export function requestIdOf(req: HttpRequest): string {
  return req.getHeader(X_REQUEST_ID) || uuid();
}
