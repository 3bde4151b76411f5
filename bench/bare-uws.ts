// What the bench's bare uWebSockets.js servers (ceiling.ts, bare-split.ts) share: the native binary,
// the port argument, reading a whole body, an empty answer, and listening.

import * as path from 'node:path';
import type * as uws from 'uWebSockets.js';

/**
 * The native uWebSockets.js binary, never the package's JS fallback: a bench server measured on the
 * fallback would be a lie. `server` names the script in the error.
 */
function loadNativeUws(server: string): typeof uws {
  const packageDir = path.dirname(require.resolve('uWebSockets.js/package.json'));
  const binaryName = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const binary = path.join(packageDir, 'binaries', binaryName);
  try {
    return require(binary) as typeof uws;
  } catch (error) {
    console.error(`${server}: cannot load the native uWebSockets.js binary ${binary}: ${String(error)}`);
    process.exit(1);
  }
}

function parsePort(server: string, arg: string | undefined): number {
  const port = Number(arg);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`usage: node dist/bench/${server}.js <port>`);
    process.exit(2);
  }
  return port;
}

/** Whether the client of a request went away (uWS must not be answered then). */
export interface Connection {
  aborted: boolean;
}

/**
 * Reads a whole POST body, copying every chunk (uWS reuses its memory after the callback) as any real
 * server must, then calls `onBody`.
 */
export function readBody(res: uws.HttpResponse, onBody: (body: Buffer) => void): Connection {
  const connection: Connection = { aborted: false };
  const chunks: Buffer[] = [];
  res.onAborted(() => {
    connection.aborted = true;
  });
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast) onBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  });
  return connection;
}

/**
 * An answer without a body, echoing X-Request-ID as Sluice does (the open-loop generator pairs answers
 * with requests by it); nothing when the client has gone.
 */
export function answer(res: uws.HttpResponse, connection: Connection, status: string, requestId: string): void {
  if (connection.aborted) return;
  res.cork(() => {
    res.writeStatus(status);
    if (requestId) res.writeHeader('X-Request-ID', requestId);
    res.end();
  });
}

/**
 * Serves POST on 127.0.0.1 at the port given as first argument, prints `listening <port>` when ready
 * (what bench/targets.ts waits for) and exits on SIGTERM, after `onStop`.
 */
export function serve(server: string, handler: (res: uws.HttpResponse, req: uws.HttpRequest) => void, onStop?: () => void): void {
  const port = parsePort(server, process.argv[2]);
  loadNativeUws(server)
    .App()
    .post('/*', handler)
    .listen('127.0.0.1', port, (listenSocket) => {
      if (!listenSocket) {
        console.error(`${server}: cannot listen on 127.0.0.1:${port}`);
        process.exit(1);
      }
      console.log(`listening ${port}`);
    });
  // Keep-alive connections would hold the loop open.
  process.on('SIGTERM', () => {
    onStop?.();
    process.exit(0);
  });
}
