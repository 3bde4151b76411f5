/**
 * DESIGN.md §2.3: every row of the POST /v1/events status table that applies without Kafka.
 * Real HTTP against a real started server with the file sink.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startSluice, makeTempDir, writeYaml, sleep, type Sluice , useSluice } from '../helpers/server';
import { postEvents, request } from '../helpers/http';
import { testEvent, invalidTestEvent, assertInvalidStatus, assertProblem, eventsBody, ids } from '../helpers/events';

describe('§2.3 POST /v1/events status table (file sink)', () => {
  const s = useSluice();

  describe('hasty: 202 on receipt', () => {
    it('hasty=true answers 202 with an empty body and the event still reaches the sink', async () => {
      const ev = testEvent();
      const r = await postEvents(s.url, [ev], { query: 'hasty=true' });
      assert.equal(r.status, 202);
      assert.equal(r.text, '');
      const lines = await s.waitForLines('test.event', (l) => ids(l).includes(ev.meta.id));
      assert.ok(ids(lines).includes(ev.meta.id), 'hasty event produced');
    });

    it('hasty=1 and hasty=yes are hasty too', async () => {
      for (const q of ['hasty=1', 'hasty=yes']) {
        const r = await postEvents(s.url, testEvent(), { query: q });
        assert.equal(r.status, 202, q);
        assert.equal(r.text, '', q);
      }
    });

    it('hasty answers 202 before parsing: malformed JSON and invalid events are not answered', async () => {
      const malformed = await postEvents(s.url, '{"$schema": "/test/event/1.0.0", "meta": ', { query: 'hasty=true' });
      assert.equal(malformed.status, 202);
      const invalid = await postEvents(s.url, [invalidTestEvent()], { query: 'hasty=true' });
      assert.equal(invalid.status, 202);
      assert.equal(invalid.text, '');
    });

    it('hasty=false, hasty=0 and an empty hasty= are guaranteed (201, event already in the file)', async () => {
      for (const q of ['hasty=false', 'hasty=0', 'hasty=']) {
        const ev = testEvent();
        const r = await postEvents(s.url, ev, { query: q });
        assert.equal(r.status, 201, q);
        assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id), `${q}: event in the file when 201 arrives`);
      }
    });
  });

  describe('all success: 201', () => {
    it('a single valid object answers 201 with an empty body, and the event is in the file when the response arrives', async () => {
      const ev = testEvent();
      const r = await postEvents(s.url, ev);
      assert.equal(r.status, 201);
      assert.equal(r.text, '');
      const lines = await s.readLines('test.event');
      const stored = lines.find((l) => l.meta?.id === ev.meta.id);
      assert.ok(stored, 'event stored');
      assert.equal(stored.test, ev.test);
    });

    it('guaranteed 201s are durable one after another: each event is in the file as each response arrives', async () => {
      for (let i = 0; i < 20; i++) {
        const ev = testEvent({ test_int: i });
        const r = await postEvents(s.url, ev);
        assert.equal(r.status, 201);
        assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id), `request ${i}`);
      }
    });

    it('a valid batch answers 201 and its events land in input order', async () => {
      const batch = [testEvent({ test_int: 1 }), testEvent({ test_int: 2 }), testEvent({ test_int: 3 })];
      const r = await postEvents(s.url, batch);
      assert.equal(r.status, 201);
      assert.equal(r.text, '');
      const fileIds = ids(await s.readLines('test.event'));
      const positions = batch.map((e) => fileIds.indexOf(e.meta.id));
      assert.ok(positions.every((p) => p >= 0), 'all stored');
      assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'input order kept');
    });
  });

  describe('all invalid: 400 {"invalid":[…]}', () => {
    it('an all-invalid batch answers 400 with every event in input order', async () => {
      const a = invalidTestEvent();
      const b = { $schema: '/does/not/exist/1.0.0', meta: { stream: 'test.event', id: '8e1c2c1e-5f2a-4f0e-9b7b-3f0e3c1d2a10' } };
      const c = testEvent({}, { stream: 'no.such.stream' });
      const r = await postEvents(s.url, [a, b, c]);
      assert.equal(r.status, 400);
      const body = eventsBody(r);
      assert.equal(body.invalid.length, 3);
      assert.equal(body.error.length, 0);
      assertInvalidStatus(body.invalid[0], 'ValidationError', a);
      assertInvalidStatus(body.invalid[1], 'SchemaNotFound', b);
      assertInvalidStatus(body.invalid[2], 'StreamNotConfigured', c);
      const fileIds = ids(await s.readLines('test.event'));
      for (const e of [a, b, c]) assert.ok(!fileIds.includes(e.meta.id), 'invalid event not produced');
    });

    it('a single invalid object is a batch of one: 400 with one EventStatus', async () => {
      const a = invalidTestEvent();
      const r = await postEvents(s.url, a);
      assert.equal(r.status, 400);
      const body = eventsBody(r);
      assert.equal(body.invalid.length, 1);
      assertInvalidStatus(body.invalid[0], 'ValidationError', a);
    });

    it('a ValidationError context names the failing field in errors and errorsText', async () => {
      const r = await postEvents(s.url, invalidTestEvent());
      const ctx = eventsBody(r).invalid[0].context;
      assert.ok(ctx.errors.some((e: { instancePath: string; keyword: string }) => e.instancePath === '/test_int' && e.keyword === 'type'), JSON.stringify(ctx.errors));
      assert.match(ctx.errorsText, /\/test_int must be integer/);
    });

    it('the echoed event is the event as received, not the augmented one', async () => {
      const ev = { $schema: '/test/event/1.0.0', meta: { stream: 'test.event' }, test: 42 };
      const r = await postEvents(s.url, [ev], { headers: { 'x-request-id': 'echo-check' } });
      assert.equal(r.status, 400);
      assert.deepEqual(eventsBody(r).invalid[0].event, ev);
    });
  });

  describe('mixed: 207 {"invalid":[…],"error":[…]}', () => {
    it('a mixed batch answers 207 listing only the failures, in input order, and produces the successes', async () => {
      const ok1 = testEvent();
      const badA = invalidTestEvent();
      const ok2 = testEvent();
      const badB = testEvent({ unexpected_field: true });
      const r = await postEvents(s.url, [ok1, badA, ok2, badB]);
      assert.equal(r.status, 207);
      assert.ok(Array.isArray(r.body.invalid) && Array.isArray(r.body.error), 'both invalid and error arrays present');
      const body = eventsBody(r);
      assert.equal(body.invalid.length, 2);
      assert.equal(body.error.length, 0);
      assertInvalidStatus(body.invalid[0], 'ValidationError', badA);
      assertInvalidStatus(body.invalid[1], 'ValidationError', badB);
      const fileIds = ids(await s.readLines('test.event'));
      assert.ok(fileIds.includes(ok1.meta.id) && fileIds.includes(ok2.meta.id), 'successes are in the file at 207 time');
      assert.ok(!fileIds.includes(badA.meta.id) && !fileIds.includes(badB.meta.id), 'failures are not');
    });
  });
});

describe('§2.3 error rows: the sink fails to persist (file sink write error)', () => {
  // The stream `broken.stream` writes to topic `broken`, whose file path is made a directory, so the
  // file sink cannot append to it: a real sink failure without Kafka.
  let s: Sluice;
  before(async () => {
    const dir = makeTempDir();
    const streams = writeYaml(path.join(dir, 'streams.yaml'), {
      'test.event': { schema_title: 'test/event' },
      'broken.stream': { schema_title: 'test/event', topic: 'broken' },
      'sluice.error.validation': { schema_title: 'error' },
    });
    s = await startSluice({ config: { streams: { config: `file:${streams}` } } });
    fs.mkdirSync(path.join(s.dataDir, 'broken.jsonl'));
  });
  after(async () => {
    await s?.stop();
  });

  const broken = () => testEvent({}, { stream: 'broken.stream' });

  function assertErrorAnswer(r: Awaited<ReturnType<typeof postEvents>>): void {
    if (r.status === 503) {
      assert.ok(r.headers['retry-after'], '503 carries Retry-After');
    } else {
      assert.equal(r.status, 500, `none succeeded, one error: 500 (or 503 + Retry-After); got ${r.status} ${r.text.slice(0, 300)}`);
    }
  }

  it('none succeeded and at least one error answers 500 {"invalid":[…],"error":[…]} in input order', async () => {
    const bad = invalidTestEvent();
    const failed = broken();
    const r = await postEvents(s.url, [bad, failed]);
    assertErrorAnswer(r);
    const body = eventsBody(r);
    assert.equal(body.invalid.length, 1);
    assertInvalidStatus(body.invalid[0], 'ValidationError', bad);
    assert.equal(body.error.length, 1);
    const e = body.error[0];
    assert.equal(e.status, 'error');
    assert.deepEqual(e.event, failed);
    assert.equal(e.context?.error_type, 'SinkError');
    assert.equal(typeof e.context.message, 'string');
  });

  it('only sink errors answers 500 with the errors listed (or a 503 problem while the sink is known down)', async () => {
    const r = await postEvents(s.url, [broken(), broken()]);
    assertErrorAnswer(r);
    if (r.status === 503 && /problem/.test(String(r.headers['content-type']))) return; // refused before any work
    const body = eventsBody(r);
    assert.equal(body.invalid.length, 0);
    assert.equal(body.error.length, 2);
  });

  it('success mixed with a sink error answers 207 and the successful event is stored', async () => {
    const ok = testEvent();
    const failed = broken();
    const r = await postEvents(s.url, [ok, failed]);
    assert.equal(r.status, 207, r.text.slice(0, 300));
    const body = eventsBody(r);
    assert.equal(body.invalid.length, 0);
    assert.equal(body.error.length, 1);
    assert.deepEqual(body.error[0].event, failed);
    assert.equal(body.error[0].context?.error_type, 'SinkError');
    assert.ok(ids(await s.readLines('test.event')).includes(ok.meta.id));
  });

  it('a failing topic does not stop the others: the next valid request answers 201', async () => {
    const ev = testEvent();
    const r = await postEvents(s.url, ev);
    assert.equal(r.status, 201);
    assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id));
  });

  it('once the cause is gone the sink recovers by itself: readyz 200 and the broken stream accepts again', async () => {
    fs.rmdirSync(path.join(s.dataDir, 'broken.jsonl'));
    const deadline = Date.now() + 5000;
    let ready = await request(s.url, '/readyz');
    while (ready.status !== 200 && Date.now() < deadline) {
      await sleep(100);
      ready = await request(s.url, '/readyz');
    }
    assert.equal(ready.status, 200, `readyz within 5 s of the fix: ${ready.text.slice(0, 200)}`);
    const ev = broken();
    const r = await postEvents(s.url, ev);
    assert.equal(r.status, 201, r.text.slice(0, 300));
    assert.ok(ids(await s.readLines('broken')).includes(ev.meta.id));
  });
});

describe('§2.3 overloaded before any work: 503 + Retry-After', () => {
  const s = useSluice({ config: { limits: { max_body_bytes: 4096, max_event_bytes: 4096, max_inflight_bytes: 4096 } } });

  it('requests beyond max_inflight_bytes get a 503 problem with Retry-After; the rest are served and stored', async () => {
    const events = Array.from({ length: 200 }, () => testEvent({ test: 'x'.repeat(3000) }));
    const rs = await Promise.all(events.map((e) => postEvents(s.url, e)));
    const statuses = rs.map((r) => r.status);
    assert.ok(statuses.every((st) => st === 201 || st === 503), `only 201 or 503: ${[...new Set(statuses)].join(',')}`);
    const rejected = rs.filter((r) => r.status === 503);
    assert.ok(rejected.length > 0, 'with room for one request in flight, 200 parallel requests overload');
    for (const r of rejected) {
      assertProblem(r, 503, 'Overloaded');
      assert.ok(r.headers['retry-after'], 'Retry-After header');
    }
    const fileIds = ids(await s.readLines('test.event'));
    rs.forEach((r, i) => {
      const stored = fileIds.includes(events[i]!.meta.id);
      assert.equal(stored, r.status === 201, `event ${i} stored iff 201`);
    });
  });
});
