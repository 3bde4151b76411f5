/**
 * DESIGN.md §7 file sink: safe with many concurrent requests. Each accepted event is in its topic file
 * exactly once, invalid ones never, and every line is a complete JSON object (no torn or interleaved
 * lines, including lines larger than a pipe buffer).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { useSluice, type Json } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { testEvent, invalidTestEvent, clickEvent, ids } from '../helpers/events';

const REQUESTS = 200;
const EVENTS_PER_REQUEST = 20;

function countIds(lines: Json[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids(lines)) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

describe('§7 file sink under concurrency', () => {
  const s = useSluice();

  it(`${REQUESTS} parallel guaranteed requests × ${EVENTS_PER_REQUEST} events: each accepted event exactly once, no torn lines`, async () => {
    const accepted: string[] = [];
    const refused: string[] = [];
    const acceptedClicks: string[] = [];
    const bodies = Array.from({ length: REQUESTS }, (_, r) =>
      Array.from({ length: EVENTS_PER_REQUEST }, (_, i) => {
        if (i === 7) return invalidTestEvent();
        if (i === 11) return clickEvent();
        // Some lines far larger than PIPE_BUF (4 KiB) make torn writes visible if appends are not whole.
        return testEvent({ test: i === 3 ? `big-${r}-`.padEnd(20_000, 'x') : `r${r}-e${i}`, test_int: r * 100 + i });
      }),
    );
    const responses = await Promise.all(bodies.map((b) => postEvents(s.url, b)));
    responses.forEach((res, r) => {
      assert.equal(res.status, 207, `request ${r}: ${res.status} ${res.text.slice(0, 300)}`);
      assert.equal(res.body.invalid.length, 1, `request ${r}: exactly the one invalid event`);
      for (const [i, ev] of bodies[r]!.entries()) {
        if (i === 7) refused.push(ev.meta.id);
        else if (i === 11) acceptedClicks.push(ev.meta.id);
        else accepted.push(ev.meta.id);
      }
    });

    const lines = await s.readLines('test.event'); // throws on any line that is not JSON
    const counts = countIds(lines);
    const missing = accepted.filter((id) => counts.get(id) !== 1);
    assert.equal(missing.length, 0, `${missing.length} accepted events not present exactly once (e.g. ${missing[0]} ×${counts.get(missing[0]!) ?? 0})`);
    assert.ok(refused.every((id) => !counts.has(id)), 'no invalid event was written');
    assert.equal(lines.length, accepted.length, 'no extra lines');
    for (const l of lines) {
      if (typeof l.test === 'string' && l.test.startsWith('big-')) assert.equal(l.test.length, 20_000, 'large line intact');
    }

    const clickCounts = countIds(await s.readLines('analytics.click'));
    assert.ok(acceptedClicks.every((id) => clickCounts.get(id) === 1), 'second topic: each click exactly once');
  });

  it('parallel hasty requests: every valid event lands exactly once', async () => {
    const bodies = Array.from({ length: 100 }, () => Array.from({ length: 10 }, () => testEvent({ test: 'hasty-load' })));
    const responses = await Promise.all(bodies.map((b) => postEvents(s.url, b, { query: 'hasty=true' })));
    assert.ok(responses.every((r) => r.status === 202), 'all 202');
    const want = bodies.flat().map((e) => e.meta.id as string);
    const lines = await s.waitForLines('test.event', (ls) => {
      const c = countIds(ls);
      return want.every((id) => c.has(id));
    }, 10_000);
    const counts = countIds(lines);
    const bad = want.filter((id) => counts.get(id) !== 1);
    assert.equal(bad.length, 0, `${bad.length} hasty events not present exactly once`);
    await s.readLines('test.event'); // and the whole file still parses
  });
});
