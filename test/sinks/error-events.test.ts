/**
 * DESIGN.md §6: every invalid event becomes an error event (shape of §6, valid against /error/1.0.0)
 * produced to error_stream in the same sink, best effort after the response; `error` outcomes do not.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { useSluice, sleep, type Json } from '../helpers/server';
import { postEvents, request } from '../helpers/http';
import { testEvent, invalidTestEvent, UUID_RE } from '../helpers/events';

const ERROR_TOPIC = 'sluice.error.validation';
const SERVICE = 'sluice-under-test';
const ERROR_EVENT_KEYS = ['$schema', 'meta', 'dt', 'emitter_id', 'error_type', 'message', 'raw_event', 'errored_schema_uri', 'errored_stream_name'];

describe('§6 error events', () => {
  const s = useSluice({ config: { service_name: SERVICE } });

  /** Posts `body` with a fresh X-Request-ID and waits for `n` error events carrying it. */
  async function postAndCollect(body: unknown, n: number, query?: string): Promise<{ status: number; errors: Json[]; requestId: string }> {
    const requestId = `err-${randomUUID()}`;
    const r = await postEvents(s.url, body, { headers: { 'x-request-id': requestId }, query });
    const lines = await s.waitForLines(ERROR_TOPIC, (ls) => ls.filter((l) => l.meta?.request_id === requestId).length >= n, 5000);
    return { status: r.status, errors: lines.filter((l) => l.meta?.request_id === requestId), requestId };
  }

  function assertErrorEventShape(e: Json, requestId: string): void {
    for (const k of ERROR_EVENT_KEYS) assert.ok(k in e, `error event has ${k}: ${JSON.stringify(e).slice(0, 300)}`);
    for (const k of Object.keys(e)) assert.ok(ERROR_EVENT_KEYS.includes(k), `no extra top-level key ${k} (additionalProperties: false)`);
    assert.equal(e.$schema, '/error/1.0.0');
    assert.equal(e.meta.stream, ERROR_TOPIC);
    assert.match(e.meta.id, UUID_RE);
    assert.ok(!Number.isNaN(Date.parse(e.meta.dt)), 'meta.dt is a date-time');
    assert.ok(!Number.isNaN(Date.parse(e.dt)), 'dt is a date-time');
    assert.ok(Math.abs(Date.parse(e.dt) - Date.now()) < 60_000, 'dt is now');
    assert.equal(e.meta.request_id, requestId);
    assert.equal(e.emitter_id, SERVICE);
    assert.equal(typeof e.message, 'string');
    assert.ok(e.message.length > 0);
    assert.equal(typeof e.raw_event, 'string');
  }

  it('a ValidationError event becomes an error event with errorsText, the raw event, its schema and stream', async () => {
    const ev = invalidTestEvent();
    const { status, errors, requestId } = await postAndCollect(ev, 1);
    assert.equal(status, 400);
    assert.equal(errors.length, 1, 'exactly one error event');
    const e = errors[0];
    assertErrorEventShape(e, requestId);
    assert.equal(e.error_type, 'ValidationError');
    assert.match(e.message, /test_int must be integer/);
    assert.deepEqual(JSON.parse(e.raw_event), ev, 'raw_event is the event as received');
    assert.equal(e.errored_schema_uri, '/test/event/1.0.0');
    assert.equal(e.errored_stream_name, 'test.event');
  });

  it('every invalid event of a mixed batch gets its own error event; valid ones none', async () => {
    const a = invalidTestEvent();
    const b = testEvent({}, { stream: 'not.configured' });
    const ok = testEvent();
    const { status, requestId } = await postAndCollect([a, ok, b], 2);
    assert.equal(status, 207);
    await sleep(200);
    const all = (await s.readLines(ERROR_TOPIC)).filter((l) => l.meta?.request_id === requestId);
    assert.equal(all.length, 2, 'one error event per invalid event, none for the valid one');
    const byType = Object.fromEntries(all.map((e) => [e.error_type, e]));
    assert.deepEqual(JSON.parse(byType.ValidationError.raw_event), a);
    assert.deepEqual(JSON.parse(byType.StreamNotConfigured.raw_event), b);
    assert.equal(byType.StreamNotConfigured.errored_stream_name, 'not.configured');
  });

  it('an unknown schema gives error_type SchemaNotFound with the URI in errored_schema_uri', async () => {
    const ev = { $schema: '/no/such/schema/1.0.0', meta: { stream: 'test.event' } };
    const { errors, requestId } = await postAndCollect(ev, 1);
    assert.equal(errors.length, 1);
    assertErrorEventShape(errors[0], requestId);
    assert.equal(errors[0].error_type, 'SchemaNotFound');
    assert.equal(errors[0].errored_schema_uri, '/no/such/schema/1.0.0');
    assert.equal(errors[0].errored_stream_name, 'test.event');
  });

  it('a missing $schema or stream is named "unknown"', async () => {
    const noSchema = { meta: { stream: 'test.event' }, test: 'no schema' };
    const noStream = { $schema: '/test/event/1.0.0', test: 'no stream' };
    const { errors, requestId } = await postAndCollect([noSchema, noStream], 2);
    assert.equal(errors.length, 2);
    for (const e of errors) assertErrorEventShape(e, requestId);
    const a = errors.find((e) => JSON.parse(e.raw_event).test === 'no schema');
    const b = errors.find((e) => JSON.parse(e.raw_event).test === 'no stream');
    assert.equal(a.error_type, 'SchemaUriMissing');
    assert.equal(a.errored_schema_uri, 'unknown');
    assert.equal(a.errored_stream_name, 'test.event');
    assert.equal(b.error_type, 'StreamMissing');
    assert.equal(b.errored_schema_uri, '/test/event/1.0.0');
    assert.equal(b.errored_stream_name, 'unknown');
  });

  it('a non-object array element gives a NotAnObject error event with the element as raw_event', async () => {
    const { errors, requestId } = await postAndCollect([42], 1);
    assert.equal(errors.length, 1);
    assertErrorEventShape(errors[0], requestId);
    assert.equal(errors[0].error_type, 'NotAnObject');
    assert.equal(errors[0].raw_event, '42');
    assert.equal(errors[0].errored_schema_uri, 'unknown');
    assert.equal(errors[0].errored_stream_name, 'unknown');
  });

  it('invalid events of a hasty request produce error events too', async () => {
    const ev = invalidTestEvent();
    const { status, errors } = await postAndCollect([ev], 1, 'hasty=true');
    assert.equal(status, 202);
    assert.equal(errors.length, 1);
    assert.deepEqual(JSON.parse(errors[0].raw_event), ev);
  });

  it('raw_event of an oversized event is capped so the error event stays producible', async () => {
    const ev = testEvent({ test: 'z'.repeat(1_200_000) }); // over the default max_event_bytes (1 000 000)
    const { status, errors } = await postAndCollect([ev], 1);
    assert.equal(status, 400);
    assert.equal(errors.length, 1, 'error event produced for the oversized event');
    assert.equal(errors[0].error_type, 'EventTooLarge');
    assert.ok(errors[0].raw_event.length < 1_000_000, `raw_event capped (length ${errors[0].raw_event.length})`);
    assert.ok(errors[0].raw_event.length > 0);
  });

  it('valid events produce no error events', async () => {
    const requestId = `ok-${randomUUID()}`;
    const r = await postEvents(s.url, [testEvent(), testEvent()], { headers: { 'x-request-id': requestId } });
    assert.equal(r.status, 201);
    await sleep(300);
    const lines = await s.readLines(ERROR_TOPIC);
    assert.equal(lines.filter((l) => l.meta?.request_id === requestId).length, 0);
  });

  it('every line of the error stream file is a complete error event', async () => {
    const lines = await s.readLines(ERROR_TOPIC);
    assert.ok(lines.length > 0);
    for (const l of lines) for (const k of ERROR_EVENT_KEYS) assert.ok(k in l, `line has ${k}`);
  });

  it('error events are counted in sluice_error_events_total', async () => {
    const r = await request(s.url, '/metrics');
    assert.match(r.text, /^sluice_error_events_total\{[^}]*result="[^"]+"[^}]*\} [1-9]/m);
  });
});

describe('§6 error events with error_stream unset', () => {
  const s = useSluice({ config: { error_stream: undefined } });

  it('invalid events are answered as usual and no error stream file is written', async () => {
    const r = await postEvents(s.url, [invalidTestEvent()]);
    assert.equal(r.status, 400);
    await sleep(300);
    assert.equal((await s.readLines(ERROR_TOPIC)).length, 0);
  });
});
