/**
 * A worker is handed its next task while one runs (pool.max_tasks_per_thread), but runs them one after
 * the other: a task waiting for a slow remote schema must not have the next task run through its
 * half-done state. One worker, so both tasks meet in the same thread. Without the ordering in
 * workers/validate.ts this test saw the slow request answered 201 with its event never stored.
 */
import { randomUUID } from 'node:crypto';
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { startSluice, sleep, type Json, type Sluice } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { ids } from '../helpers/events';
import { startDocServer, type DocServer } from '../helpers/doc-server';

const SLOW_SCHEMA_MS = 600;

function schema(title: string): Json {
  return { title, $id: `/${title}/1.0.0`, type: 'object', required: ['$schema', 'meta'], properties: { $schema: { type: 'string' }, meta: { type: 'object' } } };
}

function event(title: string): Json {
  return { $schema: `/${title}/1.0.0`, meta: { stream: title, id: randomUUID() } };
}

describe('tasks handed to a busy worker', () => {
  let registry: DocServer;
  let s: Sluice;

  before(async () => {
    registry = await startDocServer();
    for (const title of ['error', 'cached', 'slow']) registry.set(`/registry/${title}/1.0.0`, JSON.stringify(schema(title)));
    s = await startSluice({
      config: {
        schemas: { base_uris: [`${registry.url}/registry/`], precache: ['/error/1.0.0'], http_timeout_ms: 5000 },
        streams: { config: null },
        pool: { threads: 1, max_tasks_per_thread: 2 },
      },
    });
  });

  after(async () => {
    await s?.stop();
    await registry?.close();
  });

  it('run in turn: a task that waits for a schema keeps its requests while the next one comes in', async () => {
    assert.equal((await postEvents(s.url, event('cached'))).status, 201, 'warm-up: /cached/1.0.0 is in the cache');
    registry.behave({ delayMs: SLOW_SCHEMA_MS });
    const slowEvent = event('slow');
    const slow = postEvents(s.url, slowEvent, { timeoutMs: 10_000 });
    await sleep(SLOW_SCHEMA_MS / 3); // the slow task is waiting for its schema
    const quickEvents = [event('cached'), event('cached'), event('cached')];
    const quick = await postEvents(s.url, quickEvents);
    const slowAnswer = await slow;
    registry.behave({});

    assert.equal(slowAnswer.status, 201, slowAnswer.text);
    assert.equal(quick.status, 201, quick.text);
    // Interleaved, the second task emptied the first one's bodies while it waited: answered 201, stored nothing.
    assert.deepEqual(ids(await s.readLines('slow')), [slowEvent.meta.id]);
    assert.deepEqual(ids(await s.readLines('cached')).slice(1), quickEvents.map((e) => e.meta.id));
  });
});
