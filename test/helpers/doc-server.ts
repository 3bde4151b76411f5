/**
 * A real local HTTP server for remote schema repositories and stream-config APIs: serves documents
 * set in memory and files under a directory, counts requests per path and TCP connections, and can be
 * told to delay or to fail (any status) until told otherwise.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface Behaviour {
  /** Answer with this status (and a short body) instead of the document. */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer 302 with this Location. */
  redirect?: string;
}

export interface DocServer {
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Requests so far for `pathname` (exact), or for every path when omitted. */
  requests(pathname?: string): number;
  /** Every distinct path requested so far. */
  paths(): string[];
  /** Serves `body` at `pathname`, replacing whatever was there. */
  set(pathname: string, body: string): void;
  /** How every request is answered from now on; `{}` restores normal service. */
  behave(behaviour: Behaviour): void;
  /** Runs `fn` while requests are answered as `behaviour` says, then restores normal service. */
  during<T>(behaviour: Behaviour, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `mount: {'/repo/': dir}` serves `dir/<rest>` for paths under `/repo/`. */
export async function startDocServer(mounts: Record<string, string> = {}): Promise<DocServer> {
  const documents = new Map<string, string>();
  const counts = new Map<string, number>();
  let connections = 0;
  let behaviour: Behaviour = {};

  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    counts.set(pathname, (counts.get(pathname) ?? 0) + 1);
    const { status, delayMs = 0, redirect } = behaviour;
    const timer = setTimeout(() => {
      if (redirect !== undefined) return void res.writeHead(302, { location: redirect }).end();
      if (status !== undefined) return void res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
      const body = documents.get(pathname) ?? readMounted(mounts, pathname);
      if (body === undefined) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      // Deliberately unhelpful: the client must not trust Content-Type.
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    }, delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    requests: (pathname) => (pathname === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(pathname) ?? 0)),
    paths: () => [...counts.keys()],
    set: (pathname, body) => void documents.set(pathname, body),
    behave: (b) => void (behaviour = b),
    during: async (b, fn) => {
      behaviour = b;
      try {
        return await fn();
      } finally {
        behaviour = {};
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readMounted(mounts: Record<string, string>, pathname: string): string | undefined {
  for (const [prefix, dir] of Object.entries(mounts)) {
    if (!pathname.startsWith(prefix)) continue;
    const file = path.resolve(dir, decodeURIComponent(pathname.slice(prefix.length)));
    if (!file.startsWith(path.resolve(dir) + path.sep)) return undefined;
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  }
  return undefined;
}
