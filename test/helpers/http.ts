/**
 * Small HTTP clients for tests: `request`/`postEvents` over node:http (full control of headers: no
 * implicit Content-Type, exact bodies), and `rawHttp` over a bare socket for what a well-behaved client
 * cannot send (lying Content-Length, slow or aborted bodies, hand-written chunked encoding).
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import type { Json } from './server';

export interface Resp {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  text: string;
  /** The parsed body when it is non-empty JSON, else undefined. */
  body: Json;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  timeoutMs?: number;
}

// A fresh connection per request keeps tests independent of keep-alive behaviour.
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

export function request(baseUrl: string, pathAndQuery: string, opts: RequestOptions = {}): Promise<Resp> {
  const url = new URL(pathAndQuery, baseUrl);
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  const headers: Record<string, string | number> = { ...opts.headers };
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length' || h.toLowerCase() === 'transfer-encoding')) {
    headers['content-length'] = body.length;
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: opts.method ?? 'GET', headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          let parsed: Json;
          if (text.length > 0 && /json/.test(String(res.headers['content-type'] ?? ''))) {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, raw, text, body: parsed });
        });
      },
    );
    req.setTimeout(opts.timeoutMs ?? 15000, () => req.destroy(new Error(`timeout: ${opts.method ?? 'GET'} ${pathAndQuery}`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface PostOptions {
  query?: string;
  headers?: Record<string, string | number>;
  /** Default application/json; null sends no Content-Type. */
  contentType?: string | null;
  encoding?: 'gzip' | 'deflate';
  timeoutMs?: number;
}

/** POST /v1/events. `events` that is not a string or Buffer is sent as JSON. */
export function postEvents(baseUrl: string, events: unknown, opts: PostOptions = {}): Promise<Resp> {
  let body: Buffer = typeof events === 'string' ? Buffer.from(events) : Buffer.isBuffer(events) ? events : Buffer.from(JSON.stringify(events));
  const headers: Record<string, string | number> = {};
  const contentType = opts.contentType === undefined ? 'application/json' : opts.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (opts.encoding === 'gzip') body = zlib.gzipSync(body);
  if (opts.encoding === 'deflate') body = zlib.deflateSync(body);
  if (opts.encoding) headers['content-encoding'] = opts.encoding;
  Object.assign(headers, opts.headers);
  const path = '/v1/events' + (opts.query ? `?${opts.query}` : '');
  return request(baseUrl, path, { method: 'POST', headers, body, timeoutMs: opts.timeoutMs });
}

export interface RawResponse {
  status?: number;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection (before or after answering). */
  closed: boolean;
  /** No complete response within the timeout. */
  timedOut: boolean;
}

export type RawPart = string | Buffer | { delayMs: number } | { end: true };

/**
 * Writes `parts` in order over a plain TCP connection (a `{delayMs}` part pauses, an `{end}` part
 * half-closes) and resolves with the first complete response, or when the server closes, or at timeout.
 * Write errors after the server answered (EPIPE, ECONNRESET) are expected and ignored.
 */
export function rawHttp(port: number, parts: RawPart[], timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (r: Omit<RawResponse, 'closed' | 'timedOut'> & { closed?: boolean; timedOut?: boolean }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed: false, timedOut: false, ...r });
    };
    const timer = setTimeout(() => finish({ ...parse(buf, true), timedOut: true }), timeoutMs);
    socket.on('error', () => {
      /* reported through close */
    });
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = parse(buf, false);
      if (r.complete) finish(r);
    });
    socket.on('close', () => finish({ ...parse(buf, true), closed: true }));
    socket.on('connect', async () => {
      for (const part of parts) {
        if (done || socket.destroyed) return;
        if (typeof part === 'string' || Buffer.isBuffer(part)) {
          socket.write(part);
        } else if ('delayMs' in part) {
          await new Promise((r) => setTimeout(r, part.delayMs));
        } else {
          socket.end();
        }
      }
    });
  });
}

function parse(buf: Buffer, final: boolean): { complete: boolean; status?: number; headers: Record<string, string>; body: string } {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return { complete: false, headers: {}, body: '' };
  const head = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1]);
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const rest = buf.subarray(headEnd + 4);
  const len = headers['content-length'];
  if (len !== undefined) {
    const n = Number(len);
    return { complete: rest.length >= n, status, headers, body: rest.subarray(0, n).toString('utf8') };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const complete = rest.includes('0\r\n\r\n');
    return { complete, status, headers, body: dechunk(rest) };
  }
  return { complete: final, status, headers, body: rest.toString('utf8') };
}

function dechunk(b: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(b.subarray(i, eol).toString('latin1'), 16);
    if (!(size > 0)) break;
    out.push(b.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out).toString('utf8');
}

/**
 * A HEAD request over a bare socket, half-closed after 200 ms: the server's FIN ends it, so a body the
 * server wrongly sent after the head is read into `body`.
 */
export function rawHead(port: number, path: string, headers: Record<string, string | number> = {}): Promise<RawResponse> {
  return rawHttp(port, [head('HEAD', path, headers), { delayMs: 200 }, { end: true }]);
}

/** An HTTP/1.1 request head for rawHttp. */
export function head(method: string, path: string, headers: Record<string, string | number>): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** One chunk of a chunked body. */
export function chunk(data: string | Buffer): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from(b.length.toString(16) + '\r\n'), b, Buffer.from('\r\n')]);
}

/**
 * Sends `requests` over one keep-alive connection, each after the previous response arrived, and
 * returns the responses; stops early if the server closes the connection or at the timeout.
 */
export function rawHttpSequence(port: number, requests: Array<string | Buffer>, timeoutMs = 5000): Promise<Array<{ status?: number; headers: Record<string, string>; body: string }>> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let done = false;
    const out: Array<{ status?: number; headers: Record<string, string>; body: string }> = [];
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = parse(buf, false);
      if (!r.complete || r.headers['content-length'] === undefined) return;
      out.push({ status: r.status, headers: r.headers, body: r.body });
      buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4 + Number(r.headers['content-length']));
      if (out.length >= requests.length) return finish();
      socket.write(requests[out.length]!);
    });
    socket.on('close', finish);
    socket.on('connect', () => socket.write(requests[0]!));
  });
}

/**
 * Writes `request` on a connection that is already open and resolves with its complete response; rejects
 * when the server ends or resets the connection first.
 */
export function exchangeOn(socket: net.Socket, request: string | Buffer): Promise<{ status?: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    socket.once('error', reject);
    socket.once('end', () => reject(new Error(`connection ended by the server after ${buf.length} bytes: ${buf.toString('latin1').slice(0, 200)}`)));
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = parse(buf, false);
      if (r.complete) resolve({ status: r.status, headers: r.headers, body: r.body });
    });
    socket.write(request);
  });
}

/** A connection that sent a request head and part of its body, and waits; `answered` resolves with the status. */
export interface PartUpload {
  socket: net.Socket;
  answered: Promise<number>;
}

export function partUpload(port: number, headers: Record<string, string | number>, part: Buffer): Promise<PartUpload> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    const answered = new Promise<number>((done) => {
      socket.on('data', (d: Buffer) => {
        received += d.toString('latin1');
        const status = /^HTTP\/1\.1 (\d{3})/.exec(received);
        if (status) done(Number(status[1]));
      });
      socket.on('close', () => done(0));
    });
    socket.on('error', () => {
      /* reported through close */
    });
    socket.once('connect', () => {
      socket.write(head('POST', '/v1/events', { 'Content-Type': 'application/json', ...headers }));
      socket.write(part, () => resolve({ socket, answered }));
    });
    socket.once('error', reject);
  });
}
