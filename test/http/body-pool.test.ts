/**
 * Request bodies of 4 KiB and more are read into pooled memory that is reused once the request has
 * settled (src/http/body-reader.ts). A body given back too early would be overwritten by another
 * request's bytes: these tests send many distinct bodies at once, round after round (so memory is
 * reused), with aborted uploads, hasty and partly invalid requests mixed in, and check that every
 * stored event is exactly the one that was sent.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { postEvents } from '../helpers/http';
import { invalidTestEvent, testEvent } from '../helpers/events';
import { useSluice, type Json } from '../helpers/server';

const ROUNDS = 4;
const REQUESTS_PER_ROUND = 48;

/** Starts an upload of `declared` bytes, sends half, and drops the connection. */
function abandonUpload(port: number, declared: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.write(`POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
      socket.write(Buffer.alloc(declared / 2, 0x5b));
      setTimeout(() => socket.destroy(), 5);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

describe('pooled request bodies', () => {
  const s = useSluice();

  it(`${ROUNDS} rounds of ${REQUESTS_PER_ROUND} concurrent 4–200 KiB bodies: every stored event is the one sent`, async () => {
    const sent = new Map<string, string>();
    let hastyIds: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const bodies: Json[][] = Array.from({ length: REQUESTS_PER_ROUND }, (_, r) => {
        // Sizes spread over many pool sizes; the text is unique per event, so a mix-up shows.
        const padding = 4096 + ((r * 7919 + round * 104_729) % 200_000);
        const events = [0, 1, 2].map((e) => testEvent({ test: `round ${round} request ${r} event ${e} `.padEnd(Math.floor(padding / 3), String.fromCharCode(97 + ((r + e) % 26))) }));
        if (r % 5 === 0) events.push(invalidTestEvent());
        return events;
      });
      const hasty = (r: number): boolean => r % 7 === 3;
      const posts = bodies.map((events, r) => postEvents(s.url, events, hasty(r) ? { query: 'hasty=true' } : {}));
      const abandoned = [20_000, 64_000, 150_000].map((bytes) => abandonUpload(s.port, bytes));
      const responses = await Promise.all(posts);
      await Promise.all(abandoned);
      responses.forEach((res, r) => {
        const expected = hasty(r) ? 202 : r % 5 === 0 ? 207 : 201;
        assert.equal(res.status, expected, `round ${round} request ${r}: ${res.status} ${res.text.slice(0, 200)}`);
        for (const event of bodies[r]!) if (event.test_int === undefined) sent.set(event.meta.id, event.test);
        if (hasty(r)) hastyIds = hastyIds.concat(bodies[r]!.filter((e) => e.test_int === undefined).map((e) => e.meta.id as string));
      });
    }
    const lines = await s.waitForLines('test.event', (ls) => ls.length >= sent.size, 15_000);
    const seen = new Set<string>();
    for (const line of lines) {
      const id = line.meta.id as string;
      assert.ok(sent.has(id), `stored event ${id} was never sent as valid`);
      assert.ok(!seen.has(id), `event ${id} stored twice`);
      seen.add(id);
      assert.equal(line.test, sent.get(id), `event ${id} stored with other bytes than were sent`);
    }
    assert.equal(seen.size, sent.size, 'every valid event stored');
    assert.ok(hastyIds.every((id) => seen.has(id)), 'hasty events stored too');
  });

  it('a small request after the rounds is answered and stored normally', async () => {
    const event = testEvent({ test: 'after' });
    const res = await postEvents(s.url, [event]);
    assert.equal(res.status, 201);
    const lines = await s.waitForLines('test.event', (ls) => ls.some((l) => l.meta.id === event.meta.id), 5000);
    assert.equal(lines.find((l) => l.meta.id === event.meta.id)?.test, 'after');
  });
});
