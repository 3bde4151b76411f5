/**
 * DESIGN.md §9: a worker thread that dies is replaced, the requests of its task are answered 500, and
 * the process keeps serving. The crash is a real one: a worker heap limit (pool.max_worker_heap_mb)
 * and a body whose 40 000 refused events exhaust it.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { useSluice } from '../helpers/server';
import { postEvents, request } from '../helpers/http';
import { assertProblem, ids, testEvent } from '../helpers/events';

describe('§9 worker thread crash', () => {
  const s = useSluice({ config: { pool: { threads: 1, max_worker_heap_mb: 16 } } });

  it('a worker that runs out of heap answers its request 500; a replacement serves the next ones', async () => {
    const heavy = Array.from({ length: 40_000 }, () => ({ $schema: '/test/event/1.0.0', meta: { stream: 'no.such.stream' }, filler: 'y'.repeat(20) }));
    const crashed = await postEvents(s.url, heavy, { timeoutMs: 30_000 });
    assertProblem(crashed, 500, 'InternalError');

    for (let i = 0; i < 5; i++) {
      const ev = testEvent({ test_int: i });
      const r = await postEvents(s.url, ev);
      assert.equal(r.status, 201, r.text);
      assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id), `event ${i} stored after the crash`);
    }
    const ready = await request(s.url, '/readyz');
    assert.equal(ready.status, 200);
  });
});
