// The HTTP ceiling: a bare uWebSockets.js server that reads the whole POST body and answers 201 with an
// empty body. Nothing Sluice does can be faster than this, so bench/run.ts reports Sluice as a ratio of it.
//
// Usage: node dist/bench/ceiling.js <port>    prints `listening <port>` when ready, exits on SIGTERM.

import type * as uws from 'uWebSockets.js';
import { loadNativeUws, parsePort } from './native-uws';

const received = { requests: 0, bytes: 0 };

/**
 * Copies every chunk (uWS reuses its buffer after the callback), as any real server must, then answers,
 * echoing X-Request-ID as Sluice does (the open-loop generator pairs answers with requests by it).
 */
function readBodyThenAnswer(res: uws.HttpResponse, req: uws.HttpRequest): void {
  const requestId = req.getHeader('x-request-id');
  const chunks: Buffer[] = [];
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk.slice(0)));
    if (!isLast || aborted) return;
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    received.requests++;
    received.bytes += body.length;
    res.cork(() => {
      res.writeStatus('201 Created');
      if (requestId) res.writeHeader('X-Request-ID', requestId);
      res.end();
    });
  });
}

function main(): void {
  const port = parsePort(process.argv[2], 'node dist/bench/ceiling.js <port>');
  const native = loadNativeUws('ceiling');
  native
    .App()
    .post('/*', (res, req) => readBodyThenAnswer(res, req))
    .listen('127.0.0.1', port, (listenSocket) => {
      if (!listenSocket) {
        console.error(`ceiling: cannot listen on 127.0.0.1:${port}`);
        process.exit(1);
      }
      console.log(`listening ${port}`);
    });
  process.on('SIGTERM', () => {
    // Keep-alive connections would hold the loop open; the counts let run.ts see the bodies were read.
    console.log(`received ${received.requests} requests, ${received.bytes} body bytes`);
    process.exit(0);
  });
}

main();
