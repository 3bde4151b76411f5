/**
 * DESIGN.md §2.1 and §9: limits and bad input, each rule against a real server.
 * max_body_bytes is lowered to 256 KiB and max_event_bytes to 64 KiB so the limits are cheap to hit.
 * Not covered here: slowloris timeouts (the timeout is long by design; test/http/slow-clients.test.ts) and
 * 10 000 connections (test/http/many-connections.test.ts).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { useSluice, type Json } from '../helpers/server';
import { postEvents, request, rawHttp, head, chunk, type Resp } from '../helpers/http';
import { testEvent, assertInvalidStatus, assertProblem, eventsBody, ids, UUID_RE } from '../helpers/events';

const MAX_BODY = 256 * 1024;
const MAX_EVENT = 64 * 1024;

describe('§2.1/§9 bad input', () => {
  const s = useSluice({ config: { limits: { max_body_bytes: MAX_BODY, max_event_bytes: MAX_EVENT } } });

  async function assertStillServing(): Promise<void> {
    assert.equal(s.proc.exitCode, null, 'the server process is still running');
    const h = await request(s.url, '/healthz');
    assert.equal(h.status, 200);
    const ev = testEvent();
    const r = await postEvents(s.url, ev);
    assert.equal(r.status, 201, 'a valid event is still accepted');
  }

  function assert400Problem(r: Resp, what: string): void {
    assert.equal(r.status, 400, `${what}: ${r.text.slice(0, 300)}`);
    assert.match(String(r.headers['content-type']), /^application\/problem\+json/, what);
    assert.match(r.body?.type ?? '', /^urn:sluice:problem:/, what);
    assert.equal(r.body.status, 400, what);
    assert.ok(typeof r.body.detail === 'string' && r.body.detail.length > 0, `${what}: detail says what is wrong`);
  }

  function paddedBatch(total: number): Json[] {
    // Five events of ~50 KB (each under max_event_bytes), padded so the JSON body is exactly `total` bytes.
    const events = Array.from({ length: 5 }, () => testEvent({ test: '' }));
    const base = Buffer.byteLength(JSON.stringify(events));
    const pad = total - base;
    const each = Math.floor(pad / 5);
    events.forEach((e, i) => (e.test = 'x'.repeat(i === 4 ? pad - each * 4 : each)));
    assert.equal(Buffer.byteLength(JSON.stringify(events)), total);
    return events;
  }

  describe('body larger than max_body_bytes: 413, nothing produced', () => {
    it('a body of exactly max_body_bytes is accepted', async () => {
      const events = paddedBatch(MAX_BODY);
      const r = await postEvents(s.url, events);
      assert.equal(r.status, 201, r.text.slice(0, 300));
    });

    it('one byte over max_body_bytes answers 413 with the limit in the problem body', async () => {
      const events = paddedBatch(MAX_BODY + 1);
      const r = await postEvents(s.url, events);
      const p = assertProblem(r, 413, 'PayloadTooLarge');
      assert.equal(p.max_body_bytes, MAX_BODY);
      const fileIds = ids(await s.readLines('test.event'));
      assert.ok(events.every((e) => !fileIds.includes(e.meta.id)), 'nothing produced');
    });

    it('a Content-Length above the limit is refused before the body is sent', async () => {
      const r = await rawHttp(s.port, [head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Content-Length': 50_000_000 }), '[{"$schema":'], 5000);
      assert.equal(r.timedOut, false, 'answered without waiting for the body');
      assert.equal(r.status, 413);
      assert.match(r.headers['content-type'] ?? '', /^application\/problem\+json/);
      const p = JSON.parse(r.body);
      assert.equal(p.type, 'urn:sluice:problem:PayloadTooLarge');
      assert.equal(p.max_body_bytes, MAX_BODY);
    });

    it('a chunked body that grows past the limit answers 413 while reading, and nothing is produced', async () => {
      const events = Array.from({ length: 400 }, () => testEvent({ test: 'c'.repeat(1000) }));
      const json = Buffer.from(JSON.stringify(events));
      assert.ok(json.length > MAX_BODY);
      const parts: Buffer[] = [];
      for (let i = 0; i < json.length; i += 16384) parts.push(chunk(json.subarray(i, i + 16384)));
      const r = await rawHttp(s.port, [head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }), ...parts, '0\r\n\r\n'], 10000);
      assert.equal(r.status, 413, `status ${r.status} closed=${r.closed} body=${r.body.slice(0, 200)}`);
      assert.equal(JSON.parse(r.body).max_body_bytes, MAX_BODY);
      const fileIds = ids(await s.readLines('test.event'));
      assert.ok(events.every((e) => !fileIds.includes(e.meta.id)), 'nothing produced');
    });

    it('a small chunked body is read and accepted', async () => {
      const ev = testEvent();
      const json = JSON.stringify([ev]);
      const r = await rawHttp(s.port, [head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }), chunk(json.slice(0, 10)), chunk(json.slice(10)), '0\r\n\r\n'], 10000);
      assert.equal(r.status, 201, `body=${r.body.slice(0, 200)}`);
      assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id));
    });

    it('a gzip body whose inflated size is over the limit answers 413, and nothing is produced', async () => {
      const events = Array.from({ length: 400 }, () => testEvent({ test: 'g'.repeat(1000) }));
      const r = await postEvents(s.url, events, { encoding: 'gzip' });
      const p = assertProblem(r, 413, 'PayloadTooLarge');
      assert.equal(p.max_body_bytes, MAX_BODY);
      const fileIds = ids(await s.readLines('test.event'));
      assert.ok(events.every((e) => !fileIds.includes(e.meta.id)), 'nothing produced');
    });

    it('a gzip bomb (64 MB of zeros in ~64 KB) answers 413, not an out-of-memory', async () => {
      const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
      assert.ok(bomb.length < MAX_BODY);
      const r = await request(s.url, '/v1/events', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
      assertProblem(r, 413, 'PayloadTooLarge');
      await assertStillServing();
    });

    it('a deflate bomb answers 413 as well', async () => {
      const bomb = zlib.deflateSync(Buffer.alloc(50 * 1024 * 1024), { level: 9 });
      const r = await request(s.url, '/v1/events', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' }, body: bomb });
      assertProblem(r, 413, 'PayloadTooLarge');
    });
  });

  describe('content encoding: gzip and deflate bodies are inflated', () => {
    it('a gzip body is accepted and its events are produced', async () => {
      const batch = [testEvent(), testEvent()];
      const r = await postEvents(s.url, batch, { encoding: 'gzip' });
      assert.equal(r.status, 201, r.text);
      const fileIds = ids(await s.readLines('test.event'));
      assert.ok(batch.every((e) => fileIds.includes(e.meta.id)));
    });

    it('a deflate body is accepted', async () => {
      const ev = testEvent();
      const r = await postEvents(s.url, ev, { encoding: 'deflate' });
      assert.equal(r.status, 201, r.text);
      assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id));
    });

    it('a gzip text/plain body (a beacon) is accepted', async () => {
      const r = await postEvents(s.url, testEvent(), { encoding: 'gzip', contentType: 'text/plain;charset=UTF-8' });
      assert.equal(r.status, 201, r.text);
    });

    it('a corrupt gzip body answers 400, not 500', async () => {
      const r = await request(s.url, '/v1/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: Buffer.from('this is not gzip at all'),
      });
      assert400Problem(r, 'corrupt gzip');
    });

    it('an unsupported content encoding answers 415', async () => {
      const r = await postEvents(s.url, JSON.stringify(testEvent()), { headers: { 'content-encoding': 'br' } });
      assertProblem(r, 415, 'UnsupportedEncoding');
    });
  });

  describe('content type: 415 unless JSON, text/plain or reports+json', () => {
    it('a wrong content type answers 415 with a problem body', async () => {
      const r = await postEvents(s.url, testEvent(), { contentType: 'application/xml' });
      assertProblem(r, 415, 'UnsupportedMediaType');
    });

    it('a form content type answers 415', async () => {
      const r = await postEvents(s.url, 'a=1', { contentType: 'application/x-www-form-urlencoded' });
      assertProblem(r, 415, 'UnsupportedMediaType');
    });

    it('a missing content type answers 415', async () => {
      const r = await postEvents(s.url, testEvent(), { contentType: null });
      assertProblem(r, 415, 'UnsupportedMediaType');
    });

    it('text/plain is accepted (navigator.sendBeacon)', async () => {
      const ev = testEvent();
      const r = await postEvents(s.url, ev, { contentType: 'text/plain' });
      assert.equal(r.status, 201, r.text);
      assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id));
    });

    it('a charset parameter is fine', async () => {
      for (const ct of ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'text/plain;charset=UTF-8']) {
        const r = await postEvents(s.url, testEvent(), { contentType: ct });
        assert.equal(r.status, 201, `${ct}: ${r.text}`);
      }
    });

    it('application/reports+json is accepted', async () => {
      const r = await postEvents(s.url, testEvent(), { contentType: 'application/reports+json' });
      assert.equal(r.status, 201, r.text);
    });
  });

  describe('malformed, truncated, invalid UTF-8, scalar or empty bodies: 400 problem', () => {
    it('malformed JSON answers 400 with a problem that says what is wrong', async () => {
      const r = await postEvents(s.url, '{"$schema": "/test/event/1.0.0", "meta": }');
      assert400Problem(r, 'malformed');
    });

    it('a truncated body answers 400', async () => {
      const full = JSON.stringify([testEvent(), testEvent()]);
      const r = await postEvents(s.url, full.slice(0, full.length - 20));
      assert400Problem(r, 'truncated');
    });

    it('trailing garbage after the JSON value answers 400', async () => {
      assert400Problem(await postEvents(s.url, JSON.stringify(testEvent()) + ' x'), 'trailing garbage');
      assert400Problem(await postEvents(s.url, JSON.stringify(testEvent()) + JSON.stringify(testEvent())), 'two documents');
    });

    it('a Content-Length shorter than the body makes the read body truncated JSON: 400', async () => {
      const json = JSON.stringify(testEvent());
      const r = await rawHttp(s.port, [head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Content-Length': 20 }) + json]);
      assert.equal(r.status, 400, `status ${r.status} ${r.body.slice(0, 200)}`);
      await assertStillServing();
    });

    it('invalid UTF-8 answers 400', async () => {
      const json = JSON.stringify(testEvent({ test: '@@' }));
      const i = json.indexOf('@@');
      const body = Buffer.concat([Buffer.from(json.slice(0, i)), Buffer.from([0xff, 0xfe]), Buffer.from(json.slice(i + 2))]);
      const r = await postEvents(s.url, body);
      assert400Problem(r, 'invalid UTF-8');
    });

    it('an overlong UTF-8 encoding and a lone surrogate encoding answer 400', async () => {
      for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
        const json = JSON.stringify(testEvent({ test: '@@' }));
        const i = json.indexOf('@@');
        const body = Buffer.concat([Buffer.from(json.slice(0, i)), Buffer.from(bad), Buffer.from(json.slice(i + 2))]);
        assert400Problem(await postEvents(s.url, body), `bytes ${bad.join(',')}`);
      }
    });

    it('a top-level scalar answers 400', async () => {
      for (const body of ['42', '"an event"', 'null', 'true']) {
        assert400Problem(await postEvents(s.url, body), body);
      }
    });

    it('an empty body, whitespace, {} and [] answer 400', async () => {
      for (const body of ['', '  \n ', '{}', '[]']) {
        assert400Problem(await postEvents(s.url, body), JSON.stringify(body));
      }
    });
  });

  describe('deeply nested JSON (10 000 levels): 400 or invalid, never a crash', () => {
    const depth = 10_000;

    it('10 000 nested arrays as the body', async () => {
      const r = await postEvents(s.url, '['.repeat(depth) + ']'.repeat(depth));
      assert.equal(r.status, 400, r.text.slice(0, 200));
      await assertStillServing();
    });

    it('an event with a field nested 10 000 levels deep', async () => {
      const inner = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const body = `{"$schema":"/test/event/1.0.0","meta":{"stream":"test.event"},"test_map":${inner}}`;
      const r = await postEvents(s.url, body);
      assert.equal(r.status, 400, r.text.slice(0, 200));
      if (r.body && Array.isArray(r.body.invalid)) assert.equal(r.body.invalid[0].status, 'invalid');
      await assertStillServing();
    });

    it('10 000 nested objects as the whole event', async () => {
      const body = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
      const r = await postEvents(s.url, body);
      assert.equal(r.status, 400, r.text.slice(0, 200));
      await assertStillServing();
    });
  });

  describe('array elements that are not objects are invalid events', () => {
    it('non-objects among valid events answer 207 with one NotAnObject per element, in input order', async () => {
      const ok = testEvent();
      const bad: unknown[] = [1, 'x', null, [], true];
      const r = await postEvents(s.url, [ok, ...bad]);
      assert.equal(r.status, 207, r.text.slice(0, 300));
      const body = eventsBody(r);
      assert.equal(body.invalid.length, bad.length);
      bad.forEach((b, i) => assertInvalidStatus(body.invalid[i], 'NotAnObject', b));
      assert.ok(ids(await s.readLines('test.event')).includes(ok.meta.id));
    });

    it('an array of only non-objects answers 400 {"invalid":[…]}', async () => {
      const r = await postEvents(s.url, [1, 2]);
      assert.equal(r.status, 400);
      const body = eventsBody(r);
      assert.equal(body.invalid.length, 2);
      assertInvalidStatus(body.invalid[0], 'NotAnObject', 1);
      assertInvalidStatus(body.invalid[1], 'NotAnObject', 2);
    });
  });

  describe('$schema and meta.stream must be non-empty strings', () => {
    const cases: Array<[string, Json, string]> = [
      ['$schema is a number', { $schema: 5, meta: { stream: 'test.event' } }, 'SchemaUriMissing'],
      ['$schema is an object', { $schema: { $ref: '/test/event/1.0.0' }, meta: { stream: 'test.event' } }, 'SchemaUriMissing'],
      ['$schema is an array', { $schema: ['/test/event/1.0.0'], meta: { stream: 'test.event' } }, 'SchemaUriMissing'],
      ['$schema is empty', { $schema: '', meta: { stream: 'test.event' } }, 'SchemaUriMissing'],
      ['$schema is missing', { meta: { stream: 'test.event' } }, 'SchemaUriMissing'],
      ['meta.stream is a number', { $schema: '/test/event/1.0.0', meta: { stream: 7 } }, 'StreamMissing'],
      ['meta.stream is empty', { $schema: '/test/event/1.0.0', meta: { stream: '' } }, 'StreamMissing'],
      ['meta is a string', { $schema: '/test/event/1.0.0', meta: 'test.event' }, 'StreamMissing'],
      ['meta is missing', { $schema: '/test/event/1.0.0' }, 'StreamMissing'],
    ];
    for (const [name, ev, errorType] of cases) {
      it(`${name}: invalid ${errorType}`, async () => {
        const r = await postEvents(s.url, [ev]);
        assert.equal(r.status, 400, r.text.slice(0, 300));
        assertInvalidStatus(eventsBody(r).invalid[0], errorType, ev);
      });
    }
  });

  describe('__proto__ and constructor keys: invalid or accepted, never prototype pollution', () => {
    const polluters = [
      '{"$schema":"/test/event/1.0.0","meta":{"stream":"test.event"},"__proto__":{"polluted":"yes","request_id":"polluted","id":"polluted","dt":"polluted","polluted.stream":{"schema_title":"test/event"}}}',
      '{"$schema":"/test/event/1.0.0","meta":{"stream":"test.event","__proto__":{"polluted":"yes","request_id":"polluted","id":"polluted"}}}',
      '{"$schema":"/test/event/1.0.0","meta":{"stream":"test.event"},"constructor":{"prototype":{"polluted":"yes","request_id":"polluted"}}}',
      '{"$schema":"/test/event/1.0.0","meta":{"stream":"test.event","constructor":{"prototype":{"polluted":"yes"}}}}',
      '{"__proto__":{"$schema":"/test/event/1.0.0","meta":{"stream":"test.event"}}}',
      '[{"__proto__":[]},{"constructor":null}]',
    ];

    it('events carrying __proto__/constructor keys answer 201 or 400 (never 5xx), on every worker', async () => {
      // Repeat so that every worker thread sees every payload.
      for (let round = 0; round < 8; round++) {
        const rs = await Promise.all(polluters.map((p) => postEvents(s.url, p)));
        rs.forEach((r, i) => {
          assert.ok(r.status === 201 || r.status === 400 || r.status === 207, `payload ${i}: ${r.status} ${r.text.slice(0, 300)}`);
          if (r.status !== 201) {
            const body = eventsBody(r);
            assert.equal(body.error.length, 0, `payload ${i}: no server error`);
          }
        });
      }
    });

    it('after them, defaults are filled from the request, not from a polluted prototype', async () => {
      const ev = { $schema: '/test/event/1.0.0', meta: { stream: 'test.event', domain: 'after-pollution.example' } };
      for (let i = 0; i < 8; i++) {
        const requestId = `after-pollution-${i}`;
        const r = await postEvents(s.url, ev, { headers: { 'x-request-id': requestId } });
        assert.equal(r.status, 201, r.text.slice(0, 300));
        const stored = (await s.readLines('test.event')).find((l) => l.meta?.request_id === requestId);
        assert.ok(stored, `event ${requestId} stored with its own request id`);
        assert.match(stored.meta.id, UUID_RE);
        assert.notEqual(stored.meta.dt, 'polluted');
        assert.ok(!('polluted' in stored) && !('polluted' in stored.meta), 'no polluted keys');
      }
    });

    it('stream and schema names like constructor or __proto__ are simply not configured', async () => {
      for (const stream of ['polluted.stream', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        const ev = testEvent({}, { stream });
        const r = await postEvents(s.url, [ev]);
        assert.equal(r.status, 400, `${stream}: ${r.text.slice(0, 300)}`);
        assertInvalidStatus(eventsBody(r).invalid[0], 'StreamNotConfigured', ev);
      }
      for (const uri of ['/constructor', '/__proto__', '/toString/1.0.0', 'constructor']) {
        const ev = { $schema: uri, meta: { stream: 'test.event' } };
        const r = await postEvents(s.url, [ev]);
        assert.equal(r.status, 400, `${uri}: ${r.text.slice(0, 300)}`);
        assert.equal(eventsBody(r).invalid[0].status, 'invalid', uri);
      }
    });

    it('the server keeps working and other events are unaffected', async () => {
      await assertStillServing();
      const cfg = await request(s.url, '/v1/stream-configs');
      assert.equal(cfg.status, 200);
      assert.ok(!('polluted.stream' in cfg.body) && !('polluted' in cfg.body), 'no polluted stream config');
    });
  });

  describe('event larger than max_event_bytes: invalid EventTooLarge', () => {
    it('an oversized event in a batch is invalid while its neighbours are produced', async () => {
      const ok = testEvent();
      const big = testEvent({ test: 'b'.repeat(MAX_EVENT + 100) });
      const r = await postEvents(s.url, [ok, big]);
      assert.equal(r.status, 207, r.text.slice(0, 300));
      const body = eventsBody(r);
      assert.equal(body.invalid.length, 1);
      assertInvalidStatus(body.invalid[0], 'EventTooLarge', big);
      const fileIds = ids(await s.readLines('test.event'));
      assert.ok(fileIds.includes(ok.meta.id));
      assert.ok(!fileIds.includes(big.meta.id));
    });
  });

  describe('client aborts mid-body: request dropped, no leak', () => {
    it('50 clients that half-send a body and hang up do not disturb the server', async () => {
      const partial = JSON.stringify(testEvent()).slice(0, 40);
      const rs = await Promise.all(
        Array.from({ length: 50 }, () =>
          rawHttp(s.port, [head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Content-Length': 1000 }), partial, { delayMs: 20 }, { end: true }], 3000),
        ),
      );
      for (const r of rs) assert.ok(r.status === undefined || r.status === 400, `aborted request: no success answer (${r.status})`);
      await assertStillServing();
    });
  });
});
