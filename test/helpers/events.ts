/** Event factories and the assertions most HTTP tests share. */
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Resp } from './http';
import type { Json } from './server';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A valid test/event for stream test.event; `meta.id` is set so the test can find it again. */
export function testEvent(fields: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Json {
  return { $schema: '/test/event/1.0.0', meta: { stream: 'test.event', id: randomUUID(), ...meta }, test: 'hello', ...fields };
}

/** A test/event that fails validation (`test_int` must be an integer). */
export function invalidTestEvent(meta: Record<string, unknown> = {}): Json {
  return testEvent({ test_int: 'not an integer' }, meta);
}

/** A valid analytics/click event for stream analytics.click. */
export function clickEvent(fields: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Json {
  return {
    $schema: '/analytics/click/1.0.0',
    meta: { stream: 'analytics.click', id: randomUUID(), ...meta },
    dt: '2026-11-22T10:00:00.000Z',
    user_id: 'u-1842',
    action: 'click',
    element: { selector: '#signup', text: 'Sign up' },
    page: { url: 'https://shop.example.org/' },
    ...fields,
  };
}

export const CSP = "default-src 'none'; frame-ancestors 'none'";

/** The headers of a node:http answer (Resp) or a raw one (rawHttp). */
export function assertSecurityHeaders(r: { headers: Record<string, string | string[] | undefined> }, what: string): void {
  assert.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: X-Content-Type-Options`);
  assert.equal(r.headers['content-security-policy'], CSP, `${what}: Content-Security-Policy`);
  assert.ok(typeof r.headers['x-request-id'] === 'string' && r.headers['x-request-id'].length > 0, `${what}: X-Request-ID`);
}

/** An RFC 9457 problem body with `urn:sluice:problem:<errorType>`. */
export function assertProblem(r: Resp, status: number, errorType: string): Json {
  assert.equal(r.status, status, `status; body: ${r.text.slice(0, 500)}`);
  assert.match(String(r.headers['content-type']), /^application\/problem\+json/, 'problem content type');
  const p = r.body;
  assert.ok(p && typeof p === 'object', `problem body is JSON: ${r.text.slice(0, 200)}`);
  assert.equal(p.type, `urn:sluice:problem:${errorType}`);
  assert.equal(p.status, status);
  assert.equal(typeof p.title, 'string');
  assert.ok(p.title.length > 0);
  assert.equal(typeof p.detail, 'string');
  assert.ok(p.detail.length > 0, 'problem detail says what is wrong');
  return p;
}

/** The `{status:"invalid", event, context}` entry of a response, checked against `errorType`. */
export function assertInvalidStatus(entry: Json, errorType: string, event?: unknown): void {
  assert.ok(entry && typeof entry === 'object', 'EventStatus is an object');
  assert.equal(entry.status, 'invalid');
  assert.equal(entry.context?.error_type, errorType, `error_type; context: ${JSON.stringify(entry.context)}`);
  if (errorType === 'ValidationError') {
    assert.ok(Array.isArray(entry.context.errors) && entry.context.errors.length > 0, 'Ajv errors');
    for (const e of entry.context.errors) {
      for (const k of ['instancePath', 'schemaPath', 'keyword', 'params', 'message']) assert.ok(k in e, `Ajv error has ${k}`);
    }
    assert.equal(typeof entry.context.errorsText, 'string');
  } else {
    assert.equal(typeof entry.context.message, 'string');
    assert.ok(entry.context.message.length > 0);
  }
  if (event !== undefined) assert.deepEqual(entry.event, event, 'the event is echoed as received');
}

/** The body of a 400/207/500 answer: `{invalid:[…]}` plus `error:[…]` where the table says so. */
export function eventsBody(r: Resp): { invalid: Json[]; error: Json[] } {
  assert.match(String(r.headers['content-type']), /^application\/json/, `content type of ${r.status}`);
  const b = r.body;
  assert.ok(b && typeof b === 'object' && Array.isArray(b.invalid), `body has invalid[]: ${r.text.slice(0, 300)}`);
  return { invalid: b.invalid, error: Array.isArray(b.error) ? b.error : [] };
}

export function ids(lines: Json[]): string[] {
  return lines.map((l) => l?.meta?.id);
}
