// The HTTP ceiling: a bare uWebSockets.js server that reads the whole POST body and answers 201 with an
// empty body. Nothing Sluice does can be faster than this, so bench/run.ts reports Sluice as a ratio of it.
//
// Usage: node dist/bench/ceiling.js <port>    prints `listening <port>` when ready, exits on SIGTERM.

import type * as uws from 'uWebSockets.js';
import { answer, readBody, serve } from './bare-uws';

const received = { requests: 0, bytes: 0 };

function readBodyThenAnswer(res: uws.HttpResponse, req: uws.HttpRequest): void {
  const requestId = req.getHeader('x-request-id');
  const connection = readBody(res, (body) => {
    if (connection.aborted) return;
    received.requests++;
    received.bytes += body.length;
    answer(res, connection, '201 Created', requestId);
  });
}

// The counts let run.ts see the bodies were read.
serve('ceiling', readBodyThenAnswer, () => console.log(`received ${received.requests} requests, ${received.bytes} body bytes`));
