// The bench's load generator (wrk + bench/wrk/load.lua) against a small local server that can stall:
// the open loop keeps its arrival rate and charges a stall to every request that was due during it
// (no coordinated omission) and pairs every answer with its due time; pool files round-trip; the median
// is the median.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readPool, WORKLOADS, writeBodies } from '../../bench/bodies';
import { median } from '../../bench/report';
import { ensureWrk, runWrk, type WrkResult, type WrkSettings } from '../../bench/wrk';
import { makeTempDir } from '../helpers/server';

const SCRIPT = path.resolve(__dirname, '..', '..', '..', 'bench', 'wrk', 'load.lua');
const STALL_AFTER_MS = 1000;
const STALL_MS = 400;

interface Seen {
  ids: Set<string>;
  inFlight: Set<string>;
  /** Requests that arrived with the X-Request-ID of a request still unanswered. */
  idsReusedInFlight: number;
}

/**
 * Echoes X-Request-ID, answering each request `holdMs(id, msSinceFirstArrival)` after it arrives, and
 * records the ids it sees.
 */
function delayingServer(holdMs: (id: string | undefined, sinceFirst: number) => number): { server: http.Server; seen: Seen } {
  const seen: Seen = { ids: new Set(), inFlight: new Set(), idsReusedInFlight: 0 };
  let firstArrival: number | null = null;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const now = Date.now();
      firstArrival ??= now;
      const header = req.headers['x-request-id'];
      const id = typeof header === 'string' ? header : undefined;
      if (id !== undefined) {
        seen.ids.add(id);
        if (seen.inFlight.has(id)) seen.idsReusedInFlight++;
        seen.inFlight.add(id);
      }
      setTimeout(() => {
        if (id !== undefined) seen.inFlight.delete(id);
        res.writeHead(201, id !== undefined ? { 'X-Request-ID': id } : {}).end();
      }, holdMs(id, now - firstArrival));
    });
  });
  return { server, seen };
}

/** Every request that arrives in the stall window is answered only when it ends. */
const stallingServer = (): http.Server =>
  delayingServer((_id, sinceFirst) => (sinceFirst >= STALL_AFTER_MS && sinceFirst < STALL_AFTER_MS + STALL_MS ? STALL_AFTER_MS + STALL_MS - sinceFirst : 0)).server;

async function openLoop(server: http.Server, bodiesFile: string, connections: number, rate: number, durationSeconds: number): Promise<WrkResult> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const settings: WrkSettings = {
    threads: 1,
    connections,
    durationSeconds,
    script: SCRIPT,
    bodiesFile,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`,
    contentEncoding: null,
    rate,
  };
  try {
    return await runWrk(settings);
  } finally {
    server.closeAllConnections();
    server.close();
  }
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
    const rate = 200;
    const seconds = 3;
    const result = await openLoop(stallingServer(), written.file, 10, rate, seconds);
    assert.equal(result.openLoop, true);
    // The rate holds through the stall: requests due meanwhile are sent as soon as a connection is free.
    assert.ok(Math.abs(result.requests - rate * seconds) <= rate * seconds * 0.15, `${result.requests} requests for ${rate}/s over ${seconds} s`);
    assert.equal(result.timedResponses, result.requests, 'every response was paired with its due time');
    // ~80 of ~600 requests were due in the 400 ms stall; each waited from its due time to the stall's
    // end, so about the slowest 10 % waited 100 ms or more. Timed from sending, only the ~10 requests
    // caught on the connections would have, and p90 would be a millisecond.
    assert.ok(result.latencyMs.p90 >= 40, `p90 ${result.latencyMs.p90} ms should show the ${STALL_MS} ms stall`);
    assert.ok(result.latencyMs.max >= STALL_MS * 0.75 && result.latencyMs.max < STALL_MS * 3, `max ${result.latencyMs.max} ms`);
    assert.ok(result.latencyMs.p50 < 50, `p50 ${result.latencyMs.p50} ms: most requests met no stall`);
  });

  it("an open-loop request's X-Request-ID is its body's, never sent again while that request is in flight", async () => {
    // 12 bodies over 4 connections: the others come round every ~60 ms while the seventh body's requests
    // are held for 300 ms, so reusing its id in flight would happen at once if the script allowed it. (Not
    // the first bodies: wrk may take one of those for a connection's first write and never send it.)
    const written = writeBodies(dir, { ...WORKLOADS.trivial1, poolSize: 12 });
    const held = (id: string | undefined): boolean => id === 't0-7';
    const { server, seen } = delayingServer((id) => (held(id) ? 300 : 0));
    const result = await openLoop(server, written.file, 4, 200, 2);
    const ids = [...seen.ids];
    assert.ok(ids.some(held), `a held body was sent (ids seen: ${ids.join(', ')})`);
    assert.ok(ids.length <= 12, `one id per body of the pool (ids seen: ${ids.join(', ')})`);
    assert.equal(seen.idsReusedInFlight, 0, 'an X-Request-ID was sent again while its request was in flight');
    assert.equal(result.timedResponses, result.requests, 'every response was paired with its due time');
    assert.ok(result.latencyMs.max >= 250, `max ${result.latencyMs.max} ms should show the held requests`);
  });
});
