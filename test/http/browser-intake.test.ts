/**
 * Browser intake (DESIGN.md §2.1, §2.4; issue 7): `navigator.sendBeacon` posts (text/plain), CORS for a
 * configured list of origins (headers only for those, preflight, `Vary: Origin`), and the security
 * headers on every status the server produces, errors included, each readable by an allowed site.
 */
import { describe, it, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { makeTempDir, sleep, useSluice, writeYaml } from '../helpers/server';
import { chunk, head, partUpload, postEvents, rawHttp, request } from '../helpers/http';
import { metricValue } from '../helpers/metrics';
import { assertSecurityHeaders, ids, invalidTestEvent, testEvent } from '../helpers/events';

const SHOP = 'https://shop.example.org';
const WWW = 'https://www.example.org';
const MAX_BODY_BYTES = 4096;

/** `broken.stream` writes to topic `broken`, whose file is made a directory: a real sink failure (500). */
const streamsFile = writeYaml(path.join(makeTempDir(), 'streams.yaml'), {
  'test.event': { schema_title: 'test/event' },
  'broken.stream': { schema_title: 'test/event', topic: 'broken' },
  'sluice.error.validation': { schema_title: 'error' },
});

/** What a browser's sendBeacon(url, JSON.stringify(events)) sends with a string body. */
const BEACON_TYPE = 'text/plain;charset=UTF-8';

describe('browser intake with CORS for a list of origins', () => {
  const s = useSluice({
    config: {
      cors: [SHOP, WWW],
      streams: { config: `file:${streamsFile}` },
      limits: { max_body_bytes: MAX_BODY_BYTES, max_event_bytes: MAX_BODY_BYTES, max_inflight_bytes: MAX_BODY_BYTES, body_timeout_s: 1 },
    },
  });
  before(() => fs.mkdirSync(path.join(s.dataDir, 'broken.jsonl')));

  describe('navigator.sendBeacon', () => {
    it('a beacon (text/plain;charset=UTF-8 JSON, Origin of a configured site) answers 201 readable by that site, and is stored', async () => {
      const ev = testEvent();
      const r = await postEvents(s.url, [ev], { contentType: BEACON_TYPE, headers: { origin: SHOP } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.headers['access-control-allow-origin'], SHOP);
      assert.match(String(r.headers.vary), /\bOrigin\b/);
      assert.ok(ids(await s.readLines('test.event')).includes(ev.meta.id));
    });

    it('a hasty beacon answers 202 with the same CORS headers', async () => {
      const ev = testEvent();
      const r = await postEvents(s.url, ev, { contentType: BEACON_TYPE, query: 'hasty=true', headers: { origin: WWW } });
      assert.equal(r.status, 202);
      assert.equal(r.headers['access-control-allow-origin'], WWW);
      assert.ok(ids(await s.waitForLines('test.event', (l) => ids(l).includes(ev.meta.id))).includes(ev.meta.id));
    });
  });

  describe('CORS headers only for the configured origins', () => {
    for (const origin of ['https://evil.example', `${SHOP}.evil.example`, 'http://shop.example.org', 'null']) {
      it(`origin ${origin}: served, but no Access-Control-Allow-Origin (and Vary: Origin, the answer depends on it)`, async () => {
        const r = await postEvents(s.url, testEvent(), { contentType: BEACON_TYPE, headers: { origin } });
        assert.equal(r.status, 201);
        assert.equal(r.headers['access-control-allow-origin'], undefined);
        assert.match(String(r.headers.vary), /\bOrigin\b/, 'a shared cache must not reuse this answer for an allowed origin');
      });
    }

    it('no Origin header (a server-side client): no CORS headers', async () => {
      const r = await postEvents(s.url, testEvent());
      assert.equal(r.status, 201);
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    });
  });

  describe('preflight (OPTIONS)', () => {
    const preflight = (origin: string) =>
      request(s.url, '/v1/events', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

    it('from a configured origin: 204 with the CORS headers of §2.4 for that origin', async () => {
      const r = await preflight(SHOP);
      assert.equal(r.status, 204);
      assert.equal(r.headers['access-control-allow-origin'], SHOP);
      assert.match(String(r.headers.vary), /\bOrigin\b/);
      assert.equal(r.headers['access-control-allow-methods'], 'POST');
      assert.equal(r.headers['access-control-allow-headers'], 'accept, x-requested-with, content-type');
      assert.ok(Number(r.headers['access-control-max-age']) > 0, 'browsers may cache the preflight');
      assertSecurityHeaders(r, 'preflight');
    });

    it('from another origin: no Access-Control-Allow-Origin, so the browser does not send the POST', async () => {
      const r = await preflight('https://evil.example');
      assert.equal(r.headers['access-control-allow-origin'], undefined);
      assertSecurityHeaders(r, 'refused preflight');
    });
  });

  describe('§2.4 security headers (and CORS for an allowed origin) on every status the server produces', () => {
    interface Answer {
      status?: number;
      headers: Record<string, string | string[] | undefined>;
    }
    const json = (body: unknown) => JSON.stringify(body);
    const send = (method: string, p: string, contentType?: string, body?: string | Buffer, extra: Record<string, string> = {}): Promise<Answer> =>
      request(s.url, p, { method, headers: { origin: SHOP, ...(contentType ? { 'content-type': contentType } : {}), ...extra }, body });
    const raw = (parts: Array<string | Buffer | { delayMs: number }>): Promise<Answer> => rawHttp(s.port, parts, 10_000);
    const postHead = (headers: Record<string, string | number>) => head('POST', '/v1/events', { Origin: SHOP, 'Content-Type': 'application/json', ...headers });
    /** The budget is one largest body: a half-sent one holds all of it until its socket is closed. */
    const whileBudgetHeld = async (answer: () => Promise<Answer>): Promise<Answer> => {
      const held = await partUpload(s.port, { 'Content-Length': MAX_BODY_BYTES }, Buffer.from('['));
      try {
        const deadline = Date.now() + 5000;
        while ((await metricValue(s.metricsUrl, 'sluice_inflight_bytes')) < MAX_BODY_BYTES) {
          if (Date.now() > deadline) throw new Error('the half-sent upload never took the in-flight budget');
          await sleep(10);
        }
        return await answer();
      } finally {
        held.socket.destroy();
      }
    };

    const cases: Array<[name: string, status: number, answer: () => Promise<Answer>]> = [
      ['GET /healthz', 200, () => send('GET', '/healthz')],
      ['GET /readyz', 200, () => send('GET', '/readyz')],
      ['GET /_info', 200, () => send('GET', '/_info')],
      ['GET /?spec', 200, () => send('GET', '/?spec')],
      ['GET /robots.txt', 200, () => send('GET', '/robots.txt')],
      ['GET /metrics', 200, () => send('GET', '/metrics')],
      ['GET /v1/stream-configs', 200, () => send('GET', '/v1/stream-configs')],
      ['GET /v1/stream-configs/test.event', 200, () => send('GET', '/v1/stream-configs/test.event')],
      ['GET /v1/_test/events', 201, () => send('GET', '/v1/_test/events')],
      ['POST valid', 201, () => send('POST', '/v1/events', BEACON_TYPE, json(testEvent()))],
      ['POST hasty', 202, () => send('POST', '/v1/events?hasty=true', BEACON_TYPE, json(testEvent()))],
      ['OPTIONS preflight', 204, () => send('OPTIONS', '/v1/events')],
      ['POST valid + invalid', 207, () => send('POST', '/v1/events', BEACON_TYPE, json([testEvent(), invalidTestEvent()]))],
      ['POST invalid events', 400, () => send('POST', '/v1/events', BEACON_TYPE, json([invalidTestEvent()]))],
      ['POST malformed JSON', 400, () => send('POST', '/v1/events', BEACON_TYPE, '{"$schema":')],
      ['POST empty body', 400, () => send('POST', '/v1/events', BEACON_TYPE, '')],
      ['GET /nowhere', 404, () => send('GET', '/nowhere')],
      ['PUT /v1/events (wrong method)', 404, () => send('PUT', '/v1/events', 'application/json', '{}')],
      ['POST stalled body', 408, () => raw([postHead({ 'Content-Length': 1000 }), '[{"$schema":'])],
      ['POST Content-Length over the limit', 413, () => send('POST', '/v1/events', BEACON_TYPE, 'x'.repeat(MAX_BODY_BYTES + 1))],
      ['POST chunked body over the limit', 413, () => raw([postHead({ 'Transfer-Encoding': 'chunked' }), chunk('x'.repeat(MAX_BODY_BYTES + 1)), '0\r\n\r\n'])],
      ['POST gzip body over the limit once inflated', 413, () => send('POST', '/v1/events', BEACON_TYPE, zlib.gzipSync(json([testEvent({ test: 'x'.repeat(MAX_BODY_BYTES * 4) })])), { 'content-encoding': 'gzip' })],
      ['POST application/xml', 415, () => send('POST', '/v1/events', 'application/xml', '<a/>')],
      ['POST unsupported encoding', 415, () => send('POST', '/v1/events', BEACON_TYPE, json(testEvent()), { 'content-encoding': 'br' })],
      ['POST only sink failures', 500, () => send('POST', '/v1/events', BEACON_TYPE, json([testEvent({}, { stream: 'broken.stream' })]))],
      ['POST while a half-sent upload holds the in-flight budget', 503, () => whileBudgetHeld(() => send('POST', '/v1/events', BEACON_TYPE, json(testEvent())))],
    ];

    for (const [name, status, answer] of cases) {
      it(`${status}: ${name}`, async () => {
        const r = await answer();
        assert.equal(r.status, status);
        assertSecurityHeaders(r, `${name} → ${status}`);
        assert.equal(r.headers['access-control-allow-origin'], SHOP, `${name}: an allowed site can read the answer`);
        if (status === 503) assert.ok(r.headers['retry-after'], '503 carries Retry-After');
      });
    }
  });
});
