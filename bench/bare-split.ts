// The bare split: a gateway built the way DESIGN.md §1 says, doing only the work no gateway can skip. A
// bare uWebSockets.js main thread reads each body, packs the bodies that arrived in one event-loop turn
// (up to Sluice's 64 requests) into one new transferred buffer, and a piscina worker per core decodes,
// parses, validates and serializes them (bare-split-worker.ts); the main thread answers 201 (400 when an
// event is invalid). None of Sluice's other work (stream rules, augmentation, metrics, budgets, per-event
// answers) and none of its tuning either (buffer recycling, a bound on tasks in flight), so it is a
// reference, not a bound: it shows what the thread split itself costs against the ceiling, and Sluice
// can beat it where the tuning matters more than the work skipped.
//
// Usage: node dist/bench/bare-split.js <port>    prints `listening <port>` when ready, exits on SIGTERM.

import * as os from 'node:os';
import * as path from 'node:path';
import Piscina from 'piscina';
import type * as uws from 'uWebSockets.js';
import { loadNativeUws, parsePort } from './native-uws';

const MAX_BATCH_REQUESTS = 64;
/** The worker's status byte for a body whose events are all valid (bare-split-worker.ts). */
const STATUS_VALID = 1;

interface Pending {
  readonly res: uws.HttpResponse;
  readonly requestId: string;
  body: Buffer;
  aborted: boolean;
}

const threads = os.availableParallelism();
const pool = new Piscina({ filename: path.join(__dirname, 'bare-split-worker.js'), minThreads: threads, maxThreads: threads, idleTimeout: Infinity, recordTiming: false });
let open: Pending[] = [];
let sealArmed = false;

function answer(request: Pending, valid: boolean): void {
  if (request.aborted) return;
  request.res.cork(() => {
    request.res.writeStatus(valid ? '201 Created' : '400 Bad Request');
    if (request.requestId) request.res.writeHeader('X-Request-ID', request.requestId);
    request.res.end();
  });
}

function seal(): void {
  sealArmed = false;
  const batch = open;
  open = [];
  if (batch.length === 0) return;
  let bodyBytes = 0;
  for (const request of batch) bodyBytes += request.body.length;
  const bodiesAt = 4 * (batch.length + 2);
  const buffer = new ArrayBuffer(bodiesAt + bodyBytes);
  const offsets = new Int32Array(buffer, 0, batch.length + 2);
  const bytes = new Uint8Array(buffer);
  offsets[0] = batch.length;
  let offset = 0;
  for (let i = 0; i < batch.length; i++) {
    offsets[1 + i] = offset;
    bytes.set(batch[i]!.body, bodiesAt + offset);
    offset += batch[i]!.body.length;
  }
  offsets[1 + batch.length] = offset;
  pool.run(buffer, { transferList: [buffer] }).then(
    (result: ArrayBuffer) => {
      const statuses = new Uint8Array(result, 0, batch.length);
      for (let i = 0; i < batch.length; i++) answer(batch[i]!, statuses[i] === STATUS_VALID);
    },
    (error: unknown) => {
      console.error(`bare-split: task failed: ${String(error)}`);
      process.exit(1);
    },
  );
}

function receive(res: uws.HttpResponse, req: uws.HttpRequest): void {
  const request: Pending = { res, requestId: req.getHeader('x-request-id'), body: Buffer.alloc(0), aborted: false };
  const chunks: Buffer[] = [];
  res.onAborted(() => {
    request.aborted = true;
  });
  res.onData((chunk, isLast) => {
    chunks.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory after the callback
    if (!isLast) return;
    request.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    open.push(request);
    if (open.length >= MAX_BATCH_REQUESTS) seal();
    else if (!sealArmed) {
      sealArmed = true;
      setImmediate(seal);
    }
  });
}

function main(): void {
  const port = parsePort(process.argv[2], 'node dist/bench/bare-split.js <port>');
  loadNativeUws('bare-split')
    .App()
    .post('/*', receive)
    .listen('127.0.0.1', port, (listenSocket) => {
      if (!listenSocket) {
        console.error(`bare-split: cannot listen on 127.0.0.1:${port}`);
        process.exit(1);
      }
      console.log(`listening ${port}`);
    });
  process.on('SIGTERM', () => process.exit(0));
}

main();
