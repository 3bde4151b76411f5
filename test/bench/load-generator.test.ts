// The bench's load generator (wrk + bench/wrk/load.lua) against a small local server that can stall:
// the open loop keeps its arrival rate and charges a stall to every request that was due during it
// (no coordinated omission); pool files round-trip; the median is the median.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readPool, WORKLOADS, writeBodies } from '../../bench/bodies';
import { median } from '../../bench/report';
import { ensureWrk, runWrk, type WrkSettings } from '../../bench/wrk';
import { makeTempDir } from '../helpers/server';

const SCRIPT = path.resolve(__dirname, '..', '..', '..', 'bench', 'wrk', 'load.lua');
const STALL_AFTER_MS = 1000;
const STALL_MS = 400;

/** Echoes X-Request-ID; every request that arrives in the stall window is answered only when it ends. */
function stallingServer(): { server: http.Server; seen: { ids: Set<string>; requests: number; bodyBytes: number } } {
  const seen = { ids: new Set<string>(), requests: 0, bodyBytes: 0 };
  let firstArrival: number | null = null;
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      const now = Date.now();
      firstArrival ??= now;
      seen.requests++;
      seen.bodyBytes += bytes;
      const id = req.headers['x-request-id'];
      if (typeof id === 'string') seen.ids.add(id);
      const stallEnd = firstArrival + STALL_AFTER_MS + STALL_MS;
      const wait = now >= firstArrival + STALL_AFTER_MS && now < stallEnd ? stallEnd - now : 0;
      setTimeout(() => res.writeHead(201, typeof id === 'string' ? { 'X-Request-ID': id } : {}).end(), wait);
    });
  });
  return { server, seen };
}

describe('bench load generator', () => {
  let dir: string;
  before(() => {
    ensureWrk();
    dir = makeTempDir('sluice-loadgen-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('pool files hold length-prefixed records that parse back to the bodies', () => {
    const written = writeBodies(dir, { ...WORKLOADS.invalid50, poolSize: 5 });
    const bodies = readPool(written.file).map((body) => JSON.parse(body.toString()) as unknown[]);
    assert.equal(bodies.length, 5);
    for (const body of bodies) {
      assert.equal(body.length, 50);
      assert.equal(body.filter((event) => (event as { test_int: unknown }).test_int === 'not a number').length, 5);
    }
  });

  it('median of odd and even counts', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('an open loop keeps its rate and charges a server stall to every request due during it', async () => {
    const written = writeBodies(dir, { ...WORKLOADS.trivial1, poolSize: 50 });
    const { server, seen } = stallingServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const rate = 200;
    const seconds = 3;
    const settings: WrkSettings = {
      threads: 1,
      connections: 10,
      durationSeconds: seconds,
      script: SCRIPT,
      bodiesFile: written.file,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`,
      contentEncoding: null,
      rate,
    };
    try {
      const result = await runWrk(settings);
      assert.equal(result.openLoop, true);
      // The rate holds through the stall: requests due meanwhile are sent as soon as a connection is free.
      assert.ok(Math.abs(result.requests - rate * seconds) <= rate * seconds * 0.15, `${result.requests} requests for ${rate}/s over ${seconds} s`);
      assert.equal(seen.ids.size, seen.requests, 'every request carried its own X-Request-ID');
      // ~80 of ~600 requests were due in the 400 ms stall; each waited from its due time to the stall's
      // end, so about the slowest 10 % waited 100 ms or more. Timed from sending, only the ~10 requests
      // caught on the connections would have, and p90 would be a millisecond.
      assert.ok(result.latencyMs.p90 >= 40, `p90 ${result.latencyMs.p90} ms should show the ${STALL_MS} ms stall`);
      assert.ok(result.latencyMs.max >= STALL_MS * 0.75 && result.latencyMs.max < STALL_MS * 3, `max ${result.latencyMs.max} ms`);
      assert.ok(result.latencyMs.p50 < 50, `p50 ${result.latencyMs.p50} ms: most requests met no stall`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
