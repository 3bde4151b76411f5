// The bare split: a gateway built the way DESIGN.md §1 says, doing only the work no gateway can skip. A
// bare uWebSockets.js main thread reads each body, packs the bodies that arrived in one event-loop turn
// (up to Sluice's 64 requests) into one new transferred buffer, and a piscina worker per core decodes,
// parses, validates and serializes them (bare-split-worker.ts); the main thread answers 201 (400 when an
// event is invalid). None of Sluice's other work (stream rules, augmentation, metrics, budgets, per-event
// answers) and none of its tuning either (buffer recycling, a bound on tasks in flight, lower-priority
// workers, which without that bound made it slower: bench/RESULTS.md), so it is a
// reference, not a bound: it shows what the thread split itself costs against the ceiling, and Sluice
// can beat it where the tuning matters more than the work skipped.
//
// Usage: node dist/bench/bare-split.js <port>    prints `listening <port>` when ready, exits on SIGTERM.

import * as os from 'node:os';
import * as path from 'node:path';
import Piscina from 'piscina';
import type * as uws from 'uWebSockets.js';
import { answer, readBody, serve, type Connection } from './bare-uws';

const MAX_BATCH_REQUESTS = 64;
/** The worker's status byte for a body whose events are all valid (bare-split-worker.ts). */
const STATUS_VALID = 1;

interface Pending {
  readonly res: uws.HttpResponse;
  readonly connection: Connection;
  readonly requestId: string;
  readonly body: Buffer;
}

const threads = os.availableParallelism();
const pool = new Piscina({ filename: path.join(__dirname, 'bare-split-worker.js'), minThreads: threads, maxThreads: threads, idleTimeout: Infinity, recordTiming: false });
let open: Pending[] = [];
let sealArmed = false;

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
      for (let i = 0; i < batch.length; i++) {
        const { res, connection, requestId } = batch[i]!;
        answer(res, connection, statuses[i] === STATUS_VALID ? '201 Created' : '400 Bad Request', requestId);
      }
    },
    (error: unknown) => {
      console.error(`bare-split: task failed: ${String(error)}`);
      process.exit(1);
    },
  );
}

function receive(res: uws.HttpResponse, req: uws.HttpRequest): void {
  const requestId = req.getHeader('x-request-id');
  const connection = readBody(res, (body) => {
    open.push({ res, connection, requestId, body });
    if (open.length >= MAX_BATCH_REQUESTS) seal();
    else if (!sealArmed) {
      sealArmed = true;
      setImmediate(seal);
    }
  });
}

serve('bare-split', receive);
