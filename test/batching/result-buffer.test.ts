/**
 * A worker writes its result into the task's buffer when it fits, and into a buffer of its own when it
 * does not: results can be many times their task (every invalid event adds its echo and an error
 * event). Both ways must answer and store exactly the same.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { postEvents } from '../helpers/http';
import { invalidTestEvent, testEvent } from '../helpers/events';
import { useSluice } from '../helpers/server';

const ERROR_TOPIC = 'sluice.error.validation';

describe('task results larger than their task buffer', () => {
  const s = useSluice({ config: { pool: { threads: 1 } } });

  it('a request whose result is ~10× its body: every invalid event answered and an error event stored for each', async () => {
    // ~100 bytes per event on the wire, well over 1 KB each in the result: past any room a task buffer has.
    const events = Array.from({ length: 200 }, () => invalidTestEvent());
    const res = await postEvents(s.url, events, { headers: { 'x-request-id': 'result-too-big' } });
    assert.equal(res.status, 400, res.text.slice(0, 300));
    assert.equal(res.body.invalid.length, 200);
    assert.deepEqual(
      res.body.invalid.map((item: { event: { meta: { id: string } } }) => item.event.meta.id),
      events.map((e) => e.meta.id),
    );
    const errors = await s.waitForLines(ERROR_TOPIC, (ls) => ls.filter((l) => l.meta?.request_id === 'result-too-big').length >= 200, 10_000);
    const ours = errors.filter((l) => l.meta?.request_id === 'result-too-big');
    assert.equal(ours.length, 200);
    assert.deepEqual(new Set(ours.map((l) => JSON.parse(l.raw_event).meta.id)), new Set(events.map((e) => e.meta.id)));
  });

  it('valid requests before and after are stored intact (results written in place)', async () => {
    const batches = Array.from({ length: 30 }, (_, r) => Array.from({ length: 5 }, (_, e) => testEvent({ test: `r${r} e${e}`.padEnd(300 + r * 50, '.') })));
    const responses = await Promise.all(batches.map((b) => postEvents(s.url, b)));
    assert.ok(responses.every((r) => r.status === 201));
    const sent = new Map(batches.flat().map((e) => [e.meta.id as string, e.test as string]));
    const lines = await s.waitForLines('test.event', (ls) => [...sent.keys()].every((id) => ls.some((l) => l.meta.id === id)), 10_000);
    for (const line of lines) if (sent.has(line.meta.id)) assert.equal(line.test, sent.get(line.meta.id));
  });
});
