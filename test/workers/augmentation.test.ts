/**
 * DESIGN.md §5 step 4: defaults the schema declares and the event lacks are filled before validation
 * (meta.id, meta.dt, meta.request_id, http.request_headers.user-agent, http.client_ip), header values cut
 * to 400 characters, then Ajv schema defaults. Existing values are kept; undeclared fields never added.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { useSluice, type Json } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { testEvent, clickEvent, UUID_RE } from '../helpers/events';

describe('§5 augmentation', () => {
  const s = useSluice();

  /** Posts one event with a unique marker and returns the stored line. */
  async function roundTrip(topic: string, ev: Json, headers: Record<string, string> = {}, query?: string): Promise<{ stored: Json; requestId: string }> {
    const r = await postEvents(s.url, ev, { headers, query });
    assert.ok(r.status === 201 || r.status === 202, `${r.status} ${r.text.slice(0, 400)}`);
    const requestId = String(r.headers['x-request-id']);
    const lines = await s.waitForLines(topic, (ls) => ls.some((l) => l.meta?.request_id === requestId || (ev.meta?.id && l.meta?.id === ev.meta.id)));
    const stored = lines.find((l) => l.meta?.request_id === requestId || (ev.meta?.id && l.meta?.id === ev.meta.id));
    assert.ok(stored, 'event stored');
    return { stored, requestId };
  }

  describe('meta.id and meta.dt (real clients do not send them)', () => {
    it('an event without meta.id and meta.dt passes validation and gets a uuid and the receive time', async () => {
      const t0 = Date.now();
      const ev = { $schema: '/test/event/1.0.0', meta: { stream: 'test.event' }, test: 'no id, no dt' };
      const { stored } = await roundTrip('test.event', ev, { 'x-request-id': 'aug-id-dt' });
      const t1 = Date.now();
      assert.match(stored.meta.id, UUID_RE);
      assert.equal(typeof stored.meta.dt, 'string');
      const dt = Date.parse(stored.meta.dt);
      assert.ok(!Number.isNaN(dt), `ISO-8601 meta.dt: ${stored.meta.dt}`);
      assert.match(stored.meta.dt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
      assert.ok(dt >= t0 - 1000 && dt <= t1 + 1000, `meta.dt ${stored.meta.dt} is the receive time`);
    });

    it('every event of a batch gets its own meta.id', async () => {
      const batch = Array.from({ length: 10 }, (_, i) => ({ $schema: '/test/event/1.0.0', meta: { stream: 'test.event' }, test_int: i }));
      const r = await postEvents(s.url, batch, { headers: { 'x-request-id': 'aug-batch-ids' } });
      assert.equal(r.status, 201);
      const stored = (await s.readLines('test.event')).filter((l) => l.meta?.request_id === 'aug-batch-ids');
      assert.equal(stored.length, 10);
      const idSet = new Set(stored.map((l) => l.meta.id));
      assert.equal(idSet.size, 10, 'distinct ids');
      for (const id of idSet) assert.match(id, UUID_RE);
    });

    it('existing meta.id, meta.dt and meta.request_id are kept', async () => {
      const ev = testEvent({}, { id: '5b0e2f8a-1c7d-4e52-9a1b-2f4c6d8e0a13', dt: '2020-01-02T03:04:05.678Z', request_id: 'client-chosen' });
      const r = await postEvents(s.url, ev, { headers: { 'x-request-id': 'header-value' } });
      assert.equal(r.status, 201);
      const stored = (await s.readLines('test.event')).find((l) => l.meta?.id === ev.meta.id);
      assert.ok(stored);
      assert.equal(stored.meta.dt, '2020-01-02T03:04:05.678Z');
      assert.equal(stored.meta.request_id, 'client-chosen');
    });

    it('hasty events are augmented too', async () => {
      const ev = { $schema: '/test/event/1.0.0', meta: { stream: 'test.event' }, test: 'hasty augmented' };
      const { stored } = await roundTrip('test.event', ev, { 'x-request-id': 'aug-hasty' }, 'hasty=true');
      assert.match(stored.meta.id, UUID_RE);
      assert.ok(!Number.isNaN(Date.parse(stored.meta.dt)));
    });

    it('a meta.id that is not a uuid is not replaced: the event is invalid', async () => {
      const ev = testEvent({}, { id: 'not-a-uuid' });
      const r = await postEvents(s.url, ev);
      assert.equal(r.status, 400);
      assert.equal(r.body.invalid[0].context.error_type, 'ValidationError');
    });
  });

  describe('meta.request_id from X-Request-ID', () => {
    it('is filled from the X-Request-ID header', async () => {
      const ev = testEvent();
      await postEvents(s.url, ev, { headers: { 'x-request-id': 'req-abc-123' } });
      const stored = (await s.readLines('test.event')).find((l) => l.meta?.id === ev.meta.id);
      assert.equal(stored?.meta.request_id, 'req-abc-123');
    });

    it('is the generated request id (the one echoed in the response) when the client sends none', async () => {
      const ev = testEvent();
      const r = await postEvents(s.url, ev);
      assert.equal(r.status, 201);
      const stored = (await s.readLines('test.event')).find((l) => l.meta?.id === ev.meta.id);
      assert.match(String(r.headers['x-request-id']), UUID_RE);
      assert.equal(stored?.meta.request_id, r.headers['x-request-id']);
    });

    it('is cut to 400 characters', async () => {
      const ev = testEvent();
      const long = 'r'.repeat(1000);
      const r = await postEvents(s.url, ev, { headers: { 'x-request-id': long } });
      assert.equal(r.status, 201, r.text.slice(0, 300));
      const stored = (await s.readLines('test.event')).find((l) => l.meta?.id === ev.meta.id);
      assert.equal(stored?.meta.request_id, long.slice(0, 400));
    });
  });

  describe('fields the schema does not declare are never added', () => {
    it('test/event declares no http.*: a request with User-Agent and X-Client-IP stores no http field', async () => {
      const ev = testEvent();
      const r = await postEvents(s.url, ev, { headers: { 'user-agent': 'agent/1.0', 'x-client-ip': '203.0.113.7' } });
      assert.equal(r.status, 201, r.text.slice(0, 300));
      const stored = (await s.readLines('test.event')).find((l) => l.meta?.id === ev.meta.id);
      assert.ok(stored);
      assert.equal(stored.http, undefined);
    });
  });

  describe('http.client_ip and http.request_headers (analytics/click declares them)', () => {
    const clickTopic = 'analytics.click';

    it('User-Agent is copied into http.request_headers.user-agent', async () => {
      const ev = clickEvent();
      await postEvents(s.url, ev, { headers: { 'user-agent': 'Mozilla/5.0 (test)' } });
      const stored = (await s.readLines(clickTopic)).find((l) => l.meta?.id === ev.meta.id);
      assert.ok(stored, 'click stored');
      assert.equal(stored.http?.request_headers?.['user-agent'], 'Mozilla/5.0 (test)');
    });

    it('a User-Agent longer than 400 characters is cut to 400', async () => {
      const ev = clickEvent();
      const ua = 'U'.repeat(1000);
      await postEvents(s.url, ev, { headers: { 'user-agent': ua } });
      const stored = (await s.readLines(clickTopic)).find((l) => l.meta?.id === ev.meta.id);
      assert.equal(stored?.http?.request_headers?.['user-agent'], ua.slice(0, 400));
    });

    it('http.client_ip is the socket address when no proxy header is sent', async () => {
      const ev = clickEvent();
      await postEvents(s.url, ev);
      const stored = (await s.readLines(clickTopic)).find((l) => l.meta?.id === ev.meta.id);
      assert.match(String(stored?.http?.client_ip), /^(::ffff:)?127\.0\.0\.1$/);
    });

    it('X-Client-IP wins over X-Forwarded-For and the socket', async () => {
      const ev = clickEvent();
      await postEvents(s.url, ev, { headers: { 'x-client-ip': '203.0.113.7', 'x-forwarded-for': '198.51.100.1, 10.0.0.1' } });
      const stored = (await s.readLines(clickTopic)).find((l) => l.meta?.id === ev.meta.id);
      assert.equal(stored?.http?.client_ip, '203.0.113.7');
    });

    it('without X-Client-IP, the first X-Forwarded-For address is used', async () => {
      const ev = clickEvent();
      await postEvents(s.url, ev, { headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.1' } });
      const stored = (await s.readLines(clickTopic)).find((l) => l.meta?.id === ev.meta.id);
      assert.equal(stored?.http?.client_ip, '198.51.100.1');
    });

    it('existing http.client_ip and user-agent are kept', async () => {
      const ev = clickEvent({ http: { client_ip: '192.0.2.55', request_headers: { 'user-agent': 'from-the-client' } } });
      await postEvents(s.url, ev, { headers: { 'user-agent': 'from-the-header', 'x-client-ip': '203.0.113.7' } });
      const stored = (await s.readLines(clickTopic)).find((l) => l.meta?.id === ev.meta.id);
      assert.equal(stored?.http?.client_ip, '192.0.2.55');
      assert.equal(stored?.http?.request_headers?.['user-agent'], 'from-the-client');
    });

    it('an event with only client fields (no meta.id, meta.dt, http) is completed and accepted', async () => {
      const ev = clickEvent();
      delete ev.meta.id;
      const r = await postEvents(s.url, ev, { headers: { 'x-request-id': 'click-minimal', 'user-agent': 'beacon/1' }, contentType: 'text/plain' });
      assert.equal(r.status, 201, r.text.slice(0, 400));
      const stored = (await s.readLines(clickTopic)).find((l) => l.meta?.request_id === 'click-minimal');
      assert.ok(stored);
      assert.match(stored.meta.id, UUID_RE);
      assert.ok(stored.meta.dt);
      assert.equal(stored.http.request_headers['user-agent'], 'beacon/1');
    });
  });

  describe('Ajv schema defaults after the request defaults', () => {
    it('analytics/click platform defaults to "web" when absent, and is kept when present', async () => {
      const a = clickEvent();
      const b = clickEvent({ platform: 'ios' });
      const r = await postEvents(s.url, [a, b]);
      assert.equal(r.status, 201, r.text.slice(0, 400));
      const lines = await s.readLines('analytics.click');
      assert.equal(lines.find((l) => l.meta?.id === a.meta.id)?.platform, 'web');
      assert.equal(lines.find((l) => l.meta?.id === b.meta.id)?.platform, 'ios');
    });
  });
});

describe('§5 augmentation without defaults.client_ip_field', () => {
  const s = useSluice({ config: { defaults: { client_ip_field: null } } });

  it('a schema that declares http.client_ip gets no client address, but the other defaults still', async () => {
    const ev = clickEvent();
    const r = await postEvents(s.url, ev, { headers: { 'user-agent': 'Mozilla/5.0 (no ip)', 'x-client-ip': '203.0.113.7' } });
    assert.equal(r.status, 201, r.text);
    const lines = await s.waitForLines('analytics.click', (ls) => ls.some((l) => l.meta?.id === ev.meta.id));
    const stored = lines.find((l) => l.meta?.id === ev.meta.id);
    assert.equal(stored?.http?.client_ip, undefined);
    assert.equal(stored?.http?.request_headers?.['user-agent'], 'Mozilla/5.0 (no ip)');
    assert.equal(stored?.meta?.request_id, r.headers['x-request-id']);
  });
});
