/**
 * DESIGN.md §2 routes and §2.4 headers: every GET route, unknown routes, X-Request-ID, security
 * headers, and CORS (off by default, on when configured).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { useSluice, REPO_ROOT } from '../helpers/server';
import { postEvents, request, rawHead, rawHttpSequence, head } from '../helpers/http';
import { testEvent, assertSecurityHeaders, assertProblem, UUID_RE } from '../helpers/events';
import { scrape } from '../helpers/metrics';

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));

describe('§2 routes (default config with test_events, CORS off)', () => {
  const s = useSluice();

  describe('health and info', () => {
    it('GET /healthz answers 200', async () => {
      const r = await request(s.url, '/healthz');
      assert.equal(r.status, 200);
    });

    it('GET /readyz answers 200 when config, schemas and sink are usable', async () => {
      const r = await request(s.url, '/readyz');
      assert.equal(r.status, 200);
    });

    it('GET /_info answers {name, version, description, home} from package.json', async () => {
      const r = await request(s.url, '/_info');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.equal(r.body.name, pkg.name);
      assert.equal(r.body.version, pkg.version);
      assert.equal(r.body.description, pkg.description);
      assert.equal(typeof r.body.home, 'string');
      assert.ok(r.body.home.length > 0);
    });

    it('GET /?spec answers the OpenAPI 3 document, which describes POST /v1/events', async () => {
      const r = await request(s.url, '/?spec');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /json/);
      assert.match(String(r.body.openapi), /^3\./);
      assert.ok(r.body.paths && r.body.paths['/v1/events'] && r.body.paths['/v1/events'].post, 'paths./v1/events.post');
    });

    it('GET /robots.txt disallows everything, as text', async () => {
      const r = await request(s.url, '/robots.txt');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/plain/);
      assert.equal(r.text, 'User-agent: *\nDisallow: /\n');
    });
  });

  describe('GET /metrics', () => {
    it('answers Prometheus text with sluice_ metrics, counting events by stream and outcome', async () => {
      assert.equal((await postEvents(s.url, testEvent())).status, 201);
      const r = await request(s.url, '/metrics');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/plain/);
      assert.match(r.text, /^# (HELP|TYPE) sluice_/m);
      assert.match(r.text, /^sluice_events_total\{[^}]*stream="test\.event"[^}]*\} \d+/m);
      assert.match(r.text, /^sluice_http_requests_total\{/m);
    });
  });

  describe('GET /v1/stream-configs', () => {
    it('answers all loaded stream configs', async () => {
      const r = await request(s.url, '/v1/stream-configs');
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.equal(r.body['test.event']?.schema_title, 'test/event');
      assert.equal(r.body['sluice.error.validation']?.schema_title, 'error');
    });

    it('answers the comma-separated streams asked for, omitting unknown names', async () => {
      const r = await request(s.url, '/v1/stream-configs/test.event,sluice.error.validation,no.such.stream');
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body).sort(), ['sluice.error.validation', 'test.event']);
      assert.equal(r.body['test.event'].schema_title, 'test/event');
    });

    it('accepts | as the separator too (raw and percent-encoded)', async () => {
      for (const p of ['/v1/stream-configs/test.event|sluice.error.validation', '/v1/stream-configs/test.event%7Csluice.error.validation']) {
        const r = await request(s.url, p);
        assert.equal(r.status, 200, p);
        assert.deepEqual(Object.keys(r.body).sort(), ['sluice.error.validation', 'test.event'], p);
      }
    });

    it('a single name answers just that stream', async () => {
      const r = await request(s.url, '/v1/stream-configs/test.event');
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.body), ['test.event']);
    });
  });

  describe('GET /v1/_test/events', () => {
    it('runs the configured test_events through validation and the sink: 201', async () => {
      const before = (await s.readLines('test.event')).filter((l) => l.test === 'readiness probe').length;
      const r = await request(s.url, '/v1/_test/events');
      assert.equal(r.status, 201, r.text);
      const after = (await s.readLines('test.event')).filter((l) => l.test === 'readiness probe').length;
      assert.equal(after, before + 1, 'the test event was produced to its topic');
    });
  });

  describe('unknown routes: 404 JSON problem, never HTML', () => {
    for (const [method, p] of [
      ['GET', '/nope'],
      ['GET', '/v1/nope'],
      ['POST', '/v1/event'],
      ['GET', '/v2/stream/test.event'],
      ['DELETE', '/v1/events/x'],
    ] as const) {
      it(`${method} ${p} answers 404 application/problem+json`, async () => {
        const r = await request(s.url, p, { method, headers: method === 'POST' ? { 'content-type': 'application/json' } : {}, body: method === 'POST' ? '{}' : undefined });
        assertProblem(r, 404, 'NotFound');
        assertSecurityHeaders(r, `${method} ${p}`);
      });
    }

    it('a wrong method on a known route is a JSON problem (404 or 405)', async () => {
      for (const [method, p] of [['GET', '/v1/events'], ['PUT', '/v1/events'], ['POST', '/healthz']] as const) {
        const r = await request(s.url, p, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
        assert.ok(r.status === 404 || r.status === 405, `${method} ${p}: ${r.status}`);
        assertProblem(r, r.status, r.status === 404 ? 'NotFound' : 'MethodNotAllowed');
      }
    });
  });

  describe('HEAD (RFC 9110: a server supports GET and HEAD)', () => {
    const headRequest = (p: string) => rawHead(s.port, p, { 'X-Request-ID': 'head-check' });

    for (const p of ['/healthz', '/_info', '/robots.txt', '/metrics', '/v1/stream-configs']) {
      it(`HEAD ${p} answers GET's status and headers with GET's Content-Length, and no body`, async () => {
        const get = await request(s.url, p);
        const r = await headRequest(p);
        assert.equal(r.status, get.status);
        assert.equal(r.headers['content-type'], get.headers['content-type']);
        assert.equal(r.headers['x-request-id'], 'head-check');
        assert.equal(r.headers['x-content-type-options'], 'nosniff');
        assert.ok(Number(r.headers['content-length']) > 0, `${p}: Content-Length ${r.headers['content-length']}`);
        if (p !== '/metrics') assert.equal(r.headers['content-length'], get.headers['content-length']);
        assert.equal(r.body, '', 'no body after the head');
      });
    }

    it('HEAD on an unknown route is a 404 with no body; HEAD /v1/_test/events produces nothing', async () => {
      // The configured test event's stream: a GET of /v1/_test/events adds one success here.
      const eventsSeen = async () => (await scrape(s.url)).value('sluice_events_total', { stream: 'test.event', outcome: 'success' });
      const before = await eventsSeen();
      for (const p of ['/nope', '/v1/_test/events']) {
        const r = await headRequest(p);
        assert.equal(r.status, 404, p);
        assert.equal(r.body, '', `${p}: no body`);
      }
      assert.equal(await eventsSeen(), before, 'HEAD /v1/_test/events ran no test events');
    });
  });

  describe('connections: keep-alive', () => {
    it('sequential requests on one keep-alive connection are each answered', async () => {
      const evs = [testEvent(), testEvent({ test: 5 }), testEvent()];
      const posts = evs.map((e, i) => {
        const b = JSON.stringify(e);
        return head('POST', '/v1/events', { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b), 'X-Request-ID': `ka-${i + 1}` }) + b;
      });
      const rs = await rawHttpSequence(s.port, [head('GET', '/healthz', { 'X-Request-ID': 'ka-0' }), ...posts, head('GET', '/robots.txt', { 'X-Request-ID': 'ka-4' })]);
      assert.deepEqual(rs.map((r) => r.status), [200, 201, 400, 201, 200]);
      assert.deepEqual(rs.map((r) => r.headers['x-request-id']), ['ka-0', 'ka-1', 'ka-2', 'ka-3', 'ka-4']);
      const stored = (await s.readLines('test.event')).map((l) => l.meta?.id);
      assert.ok(stored.includes(evs[0].meta.id) && stored.includes(evs[2].meta.id));
    });

    // Pipelining (a second request written before the first POST is answered) is not tested: uWS
    // closes such connections while a response is pending. Browsers and common clients do not pipeline.
  });

  describe('§2.4 headers on every response', () => {
    // The security headers on every route and status are checked in browser-intake.test.ts.

    it('X-Request-ID is echoed when sent', async () => {
      for (const p of ['/healthz', '/nowhere']) {
        const r = await request(s.url, p, { headers: { 'x-request-id': 'my-request-123' } });
        assert.equal(r.headers['x-request-id'], 'my-request-123', p);
      }
      const r = await postEvents(s.url, testEvent(), { headers: { 'X-Request-ID': 'post-request-456' } });
      assert.equal(r.headers['x-request-id'], 'post-request-456');
    });

    it('X-Request-ID is generated as a fresh uuid when absent', async () => {
      const a = await request(s.url, '/healthz');
      const b = await postEvents(s.url, testEvent());
      assert.match(String(a.headers['x-request-id']), UUID_RE);
      assert.match(String(b.headers['x-request-id']), UUID_RE);
      assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
    });

    it('CORS is off by default: no Access-Control-Allow-Origin', async () => {
      const r = await postEvents(s.url, testEvent(), { headers: { origin: 'https://site.example' } });
      assert.equal(r.status, 201);
      assert.equal(r.headers['access-control-allow-origin'], undefined);
    });

    it('CORS off: a preflight answers 404 (a problem, with the security headers) and grants nothing', async () => {
      const r = await request(s.url, '/v1/events', { method: 'OPTIONS', headers: { origin: 'https://site.example', 'access-control-request-method': 'POST' } });
      assertProblem(r, 404, 'NotFound');
      assertSecurityHeaders(r, 'OPTIONS with CORS off');
      assert.equal(r.headers['access-control-allow-origin'], undefined);
      assert.equal(r.headers['access-control-allow-methods'], undefined);
    });
  });
});

describe('§2 routes (no test_events, CORS "*")', () => {
  const s = useSluice({ config: { test_events: undefined, cors: '*' } });

  it('GET /v1/_test/events answers 404 when no test_events are configured', async () => {
    const r = await request(s.url, '/v1/_test/events');
    assert.equal(r.status, 404);
    assert.match(String(r.headers['content-type']), /json/);
  });

  it('OPTIONS preflight answers with the CORS headers of §2.4', async () => {
    const r = await request(s.url, '/v1/events', {
      method: 'OPTIONS',
      headers: { origin: 'https://site.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.ok(r.status === 200 || r.status === 204, `preflight status ${r.status}`);
    assert.ok(['*', 'https://site.example'].includes(String(r.headers['access-control-allow-origin'])), String(r.headers['access-control-allow-origin']));
    assert.match(String(r.headers['access-control-allow-methods']), /POST/);
    const allowed = String(r.headers['access-control-allow-headers']).toLowerCase();
    for (const h of ['accept', 'x-requested-with', 'content-type']) assert.ok(allowed.includes(h), `Allow-Headers has ${h}: ${allowed}`);
    assertSecurityHeaders(r, 'OPTIONS');
  });

  it('a cross-origin POST carries Access-Control-Allow-Origin', async () => {
    const r = await postEvents(s.url, testEvent(), { headers: { origin: 'https://site.example' } });
    assert.equal(r.status, 201);
    assert.ok(['*', 'https://site.example'].includes(String(r.headers['access-control-allow-origin'])));
  });
});
