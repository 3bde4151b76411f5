/**
 * DESIGN.md §4 remote schema bases (issue 4): http(s) bases mixed with file: bases and tried in order,
 * loaded once and then served from the cache, 404s remembered for negative_cache_seconds, 5xx and
 * timeouts answered as retryable `error`s and never cached, JSON or YAML whatever the Content-Type,
 * a size cap, and one fetch for many concurrent first requests, within a worker and across workers.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { startSluice, makeTempDir, writeYaml, sleep, REPO_ROOT, type Sluice, type Json } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { assertInvalidStatus, eventsBody, testEvent } from '../helpers/events';
import { metricValue } from '../helpers/metrics';
import { startDocServer, type DocServer } from '../helpers/doc-server';

const NEGATIVE_CACHE_SECONDS = 1;
const HTTP_TIMEOUT_MS = 500;
const HTTP_MAX_BYTES = 64 * 1024;

function remoteSchema(title: string): Json {
  return {
    title,
    $id: `/${title}/1.0.0`,
    $schema: 'https://json-schema.org/draft-07/schema#',
    type: 'object',
    required: ['$schema', 'meta', 'n'],
    properties: { $schema: { type: 'string' }, meta: { type: 'object' }, n: { type: 'integer' } },
  };
}

function remoteEvent(title: string, n: unknown = 1): Json {
  return { $schema: `/${title}/1.0.0`, meta: { stream: title.replace('/', '.') }, n };
}

/** Serves remoteSchema(title) at the registry's bare path `/registry/<title>/1.0.0`, as JSON. */
function publish(registry: DocServer, title: string): string {
  const at = `/registry/${title}/1.0.0`;
  registry.set(at, JSON.stringify(remoteSchema(title)));
  return at;
}

function remoteConfig(registry: DocServer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: {
      base_uris: [`${registry.url}/registry/`],
      negative_cache_seconds: NEGATIVE_CACHE_SECONDS,
      http_timeout_ms: HTTP_TIMEOUT_MS,
      http_max_bytes: HTTP_MAX_BYTES,
      precache: ['/error/1.0.0'],
    },
    // No stream config: any schema may go to any stream, so each test can bring its own schema.
    streams: { config: null },
    ...extra,
  };
}

describe('§4 remote schema repository (one worker: counts are exact)', () => {
  let registry: DocServer;
  let localBase: string;
  let s: Sluice;

  before(async () => {
    registry = await startDocServer({ '/registry/': path.join(REPO_ROOT, 'schemas') });
    localBase = makeTempDir('sluice-local-schemas-');
    writeYaml(path.join(localBase, 'local/thing/1.0.0.yaml'), remoteSchema('local/thing'));
    s = await startSluice({
      config: deepSchemas(remoteConfig(registry, { pool: { threads: 1 } }), { base_uris: [`${registry.url}/registry/`, `file:${localBase}/`] }),
    });
  });

  after(async () => {
    await s?.stop();
    await registry?.close();
  });

  describe('first load and cache', () => {
    it('a schema only the registry has is fetched (bare path first, then with file_extension) and accepted', async () => {
      const r = await postEvents(s.url, testEvent());
      assert.equal(r.status, 201, r.text.slice(0, 300));
      assert.equal(registry.requests('/registry/test/event/1.0.0'), 1, 'bare path tried first');
      assert.equal(registry.requests('/registry/test/event/1.0.0.yaml'), 1, 'then with .yaml');
    });

    it('later events with the same schema are cache hits: no second request', async () => {
      for (let i = 0; i < 5; i++) assert.equal((await postEvents(s.url, [testEvent(), testEvent()])).status, 201);
      assert.equal(registry.requests('/registry/test/event/1.0.0'), 1);
      assert.equal(registry.requests('/registry/test/event/1.0.0.yaml'), 1);
      assert.ok((await metricValue(s.url, 'sluice_schema_cache_total', { result: 'hit' })) >= 10, 'hits counted');
    });

    it('a JSON body served as text/plain at the bare path is used, the extension is not tried', async () => {
      const at = publish(registry, 'remote/json');
      assert.equal((await postEvents(s.url, remoteEvent('remote/json'))).status, 201);
      assert.equal(registry.requests(at), 1);
      assert.equal(registry.requests(`${at}.yaml`), 0);
    });

    it('a YAML body at the bare path is parsed as YAML', async () => {
      registry.set('/registry/remote/yaml/1.0.0', stringify(remoteSchema('remote/yaml')));
      assert.equal((await postEvents(s.url, remoteEvent('remote/yaml'))).status, 201);
      const bad = remoteEvent('remote/yaml', 'not an integer');
      const r = await postEvents(s.url, [bad]);
      assert.equal(r.status, 400);
      assertInvalidStatus(eventsBody(r).invalid[0], 'ValidationError', bad);
    });

    it('bases are tried in order: a 404 at the registry passes to the file: base', async () => {
      const r = await postEvents(s.url, remoteEvent('local/thing'));
      assert.equal(r.status, 201, r.text.slice(0, 300));
      assert.equal(registry.requests('/registry/local/thing/1.0.0'), 1, 'the registry was asked first');
    });
  });

  describe('negative cache', () => {
    it('a 404 is invalid SchemaNotFound, remembered for negative_cache_seconds, then asked again', async () => {
      const ev = remoteEvent('remote/missing');
      const at = '/registry/remote/missing/1.0.0';
      for (let i = 0; i < 3; i++) {
        const r = await postEvents(s.url, [ev]);
        assert.equal(r.status, 400);
        assertInvalidStatus(eventsBody(r).invalid[0], 'SchemaNotFound', ev);
      }
      assert.equal(registry.requests(at), 1, 'asked once while remembered');
      publish(registry, 'remote/missing');
      await sleep(NEGATIVE_CACHE_SECONDS * 1000 + 300);
      assert.equal((await postEvents(s.url, ev)).status, 201, 'found once the negative entry expired');
      assert.equal(registry.requests(at), 2);
      assert.ok((await metricValue(s.url, 'sluice_schema_cache_total', { result: 'negative' })) >= 2);
    });
  });

  describe('an unreachable repository is the server’s fault, retryable, never cached', () => {
    it('HTTP 500: an all-error request answers 500 with SchemaUnavailable; mixed with a success, 207', async () => {
      const at = publish(registry, 'remote/flaky');
      const flaky = remoteEvent('remote/flaky');
      await registry.during({ status: 500 }, async () => {
        const r = await postEvents(s.url, [flaky]);
        assert.equal(r.status, 500, r.text.slice(0, 300));
        const body = eventsBody(r);
        assert.equal(body.error.length, 1);
        assert.equal(body.error[0].status, 'error');
        assert.equal(body.error[0].context.error_type, 'SchemaUnavailable');
        assert.deepEqual(body.error[0].event, flaky);
        assert.match(body.error[0].context.message, /500/);

        const ok = testEvent();
        const mixed = await postEvents(s.url, [ok, flaky]);
        assert.equal(mixed.status, 207, mixed.text.slice(0, 300));
        assert.equal(eventsBody(mixed).error[0].context.error_type, 'SchemaUnavailable');
      });
      const before = registry.requests(at);
      assert.equal((await postEvents(s.url, flaky)).status, 201, 'accepted at once after recovery: the failure was not cached');
      assert.equal(registry.requests(at), before + 1);
      assert.ok((await metricValue(s.url, 'sluice_schema_cache_total', { result: 'error' })) >= 2);
    });

    it('a 5xx at the first base does not fall through to the next base', async () => {
      const r = await registry.during({ status: 503 }, () => postEvents(s.url, [remoteEvent('local/other')]));
      assert.equal(r.status, 500, r.text.slice(0, 300));
      assert.equal(eventsBody(r).error[0].context.error_type, 'SchemaUnavailable');
    });

    it(`a registry slower than http_timeout_ms (${HTTP_TIMEOUT_MS} ms) is a timeout: 500, then success once it is fast`, async () => {
      publish(registry, 'remote/slow');
      const slow = remoteEvent('remote/slow');
      const started = Date.now();
      const r = await registry.during({ delayMs: 2000 }, () => postEvents(s.url, [slow]));
      const took = Date.now() - started;
      assert.equal(r.status, 500, r.text.slice(0, 300));
      assert.equal(eventsBody(r).error[0].context.error_type, 'SchemaUnavailable');
      assert.match(eventsBody(r).error[0].context.message, /timed out/);
      assert.ok(took < 1500, `answered after the timeout, not the delay (${took} ms)`);
      assert.equal((await postEvents(s.url, slow)).status, 201);
    });
  });

  describe('limits', () => {
    it(`a schema larger than http_max_bytes (${HTTP_MAX_BYTES}) is invalid SchemaInvalid`, async () => {
      const big = remoteSchema('remote/big');
      big.description = 'x'.repeat(HTTP_MAX_BYTES);
      registry.set('/registry/remote/big/1.0.0', JSON.stringify(big));
      const ev = remoteEvent('remote/big');
      const r = await postEvents(s.url, [ev]);
      assert.equal(r.status, 400, r.text.slice(0, 300));
      const entry = eventsBody(r).invalid[0];
      assertInvalidStatus(entry, 'SchemaInvalid', ev);
      assert.match(entry.context.message, /http_max_bytes/);
    });

    it('concurrent first requests for one schema share one fetch', async () => {
      await assertOneFetchFor(s, registry, 'remote/burst', 20);
    });
  });

  it('schema loads are timed in sluice_schema_load_seconds', async () => {
    assert.ok((await metricValue(s.url, 'sluice_schema_load_seconds_count')) >= 5);
    assert.ok((await metricValue(s.url, 'sluice_schema_cache_total', { result: 'miss' })) >= 5);
  });
});

describe('§4 remote schema repository across workers', () => {
  let registry: DocServer;
  let s: Sluice;

  before(async () => {
    registry = await startDocServer({ '/registry/': path.join(REPO_ROOT, 'schemas') });
    // One request per task, so concurrent requests land on both workers.
    // A generous timeout: here a slow registry must only ever be slow, never time out.
    const config = remoteConfig(registry, { pool: { threads: 2, max_batch_requests: 1, max_tasks_per_thread: 1 } });
    s = await startSluice({ config: deepSchemas(config, { http_timeout_ms: 5000 }) });
  });

  after(async () => {
    await s?.stop();
    await registry?.close();
  });

  it('concurrent first requests spread over the workers make one fetch in total', async () => {
    await assertOneFetchFor(s, registry, 'remote/shared', 12);
  });

  it('both workers precache /error/1.0.0 at start: one fetch for the two', async () => {
    // Both workers served tasks above, and a task waits for its worker's warm-up.
    assert.equal(registry.requests('/registry/error/1.0.0.yaml'), 1);
  });
});

/** Publishes `title`, posts `requests` events for it at once to a slow registry: all accepted, one fetch. */
async function assertOneFetchFor(s: Sluice, registry: DocServer, title: string, requests: number): Promise<void> {
  const at = publish(registry, title);
  const answers = await registry.during({ delayMs: 150 }, () => Promise.all(Array.from({ length: requests }, () => postEvents(s.url, remoteEvent(title)))));
  assert.deepEqual(
    answers.map((r) => r.status),
    Array(requests).fill(201),
  );
  assert.equal(registry.requests(at), 1);
}

/** remoteConfig with some `schemas` keys replaced. */
function deepSchemas(config: Record<string, unknown>, schemas: Record<string, unknown>): Record<string, unknown> {
  return { ...config, schemas: { ...(config.schemas as Record<string, unknown>), ...schemas } };
}
