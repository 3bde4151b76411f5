/**
 * A raw Server-Sent Events reader over node:http, for tests that need many cheap clients or exact
 * control of request headers (Last-Event-ID). Parses the stream per the WHATWG rules it relies on:
 * `field: value` lines, blank line ends an event, `:` lines are comments.
 */
import * as http from 'node:http';

export interface SseEvent {
  event: string;
  id: string;
  data: string;
}

export interface SseReader {
  /** Status and headers of the response (after `opened`). */
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body when the answer was not a stream (an error), else ''. */
  errorBody: string;
  events: SseEvent[];
  /** Comment lines, without the leading colon. */
  comments: string[];
  /** Resolves once the head arrived (any status). */
  opened: Promise<void>;
  /** Resolves when the server ended or reset the stream. */
  closed: Promise<void>;
  /** Resolves with the events once at least `n` arrived; rejects after `timeoutMs`. */
  waitForEvents(n: number, timeoutMs: number): Promise<SseEvent[]>;
  close(): void;
  /** Stops reading from the socket (a slow client), without closing it; before the head arrives, reads nothing past it. */
  pause(): void;
  /** Reads again; a paused reader notices the server closed the connection only then. */
  resume(): void;
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

export function openSse(baseUrl: string, pathAndQuery: string, headers: Record<string, string> = {}): SseReader {
  const url = new URL(pathAndQuery, baseUrl);
  let buffer = '';
  let current: { event?: string; id?: string; data?: string[] } = {};
  const waiters: Array<() => void> = [];
  let resolveOpened!: () => void;
  let resolveClosed!: () => void;
  let response: http.IncomingMessage | null = null;
  let paused = false;
  const reader: SseReader = {
    status: 0,
    headers: {},
    errorBody: '',
    events: [],
    comments: [],
    opened: new Promise((r) => (resolveOpened = r)),
    closed: new Promise((r) => (resolveClosed = r)),
    waitForEvents(n, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (reader.events.length >= n) {
            clearTimeout(timer);
            resolve(reader.events);
          } else waiters.push(check);
        };
        const timer = setTimeout(() => reject(new Error(`${reader.events.length} of ${n} events within ${timeoutMs} ms on ${pathAndQuery}`)), timeoutMs);
        check();
      });
    },
    close() {
      req.destroy();
    },
    pause() {
      paused = true;
      response?.pause();
    },
    resume() {
      paused = false;
      response?.resume();
    },
  };

  const line = (text: string): void => {
    if (text === '') {
      if (current.data !== undefined) reader.events.push({ event: current.event ?? 'message', id: current.id ?? '', data: current.data.join('\n') });
      current = {};
      waiters.splice(0).forEach((w) => w());
      return;
    }
    if (text.startsWith(':')) {
      reader.comments.push(text.slice(1).trim());
      return;
    }
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? '' : text.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') (current.data ??= []).push(value);
    else if (field === 'event') current.event = value;
    else if (field === 'id') current.id = value;
  };

  const req = http.get({ host: url.hostname, port: url.port, path: url.pathname + url.search, headers, agent }, (res) => {
    response = res;
    reader.status = res.statusCode ?? 0;
    reader.headers = res.headers;
    resolveOpened();
    res.setEncoding('utf8');
    const streaming = String(res.headers['content-type']).startsWith('text/event-stream');
    res.on('data', (chunk: string) => {
      if (!streaming) {
        reader.errorBody += chunk;
        return;
      }
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        line(buffer.slice(0, nl).replace(/\r$/, ''));
        buffer = buffer.slice(nl + 1);
      }
    });
    res.on('close', () => resolveClosed());
    if (paused) res.pause();
  });
  // A paused response does not emit 'close' until read; the request's does once the socket is gone.
  req.on('close', () => resolveClosed());
  req.on('error', () => {
    resolveOpened();
    resolveClosed();
  });
  return reader;
}
