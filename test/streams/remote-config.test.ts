/**
 * DESIGN.md §3 stream config from an http(s) URL (issue 4): read under streams.config_path, reloaded
 * every ttl_seconds in the background, the last good config kept when a reload fails, refreshed in
 * every worker, shown by GET /v1/stream-configs[/{streams}]; no serving before a first config, unless
 * a fallback file is configured.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { startSluice, makeTempDir, writeYaml, sleep, type Sluice } from '../helpers/server';
import { postEvents, request } from '../helpers/http';
import { assertInvalidStatus, eventsBody, testEvent } from '../helpers/events';
import { metricValue } from '../helpers/metrics';
import { startDocServer, type DocServer } from '../helpers/doc-server';

const TTL_SECONDS = 1;
const API = '/api/stream-configs';

const BASE_STREAMS = {
  'test.event': { schema_title: 'test/event' },
  'foreign.stream': { schema_title: 'test/event', destination_event_service: 'another-service' },
  'sluice.error.validation': { schema_title: 'error' },
};

/** The document an EventStreamConfig-like API answers: the stream map under `streams`. */
function apiResponse(streams: Record<string, unknown>): string {
  return JSON.stringify({ streams });
}

function remoteStreams(api: DocServer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { streams: { config: `${api.url}${API}`, config_path: 'streams', ttl_seconds: TTL_SECONDS, http_timeout_ms: 500, ...extra } };
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('§3 stream config from an HTTP API, refreshed', () => {
  let api: DocServer;
  let s: Sluice;

  before(async () => {
    api = await startDocServer();
    api.set(API, apiResponse(BASE_STREAMS));
    // Two workers, one request per task: both must see refreshes.
    s = await startSluice({ config: { ...remoteStreams(api), pool: { threads: 2, max_batch_requests: 1, max_tasks_per_thread: 1 } } });
  });

  after(async () => {
    await s?.stop();
    await api?.close();
  });

  async function postMany(stream: string, n = 8): Promise<number[]> {
    const answers = await Promise.all(Array.from({ length: n }, () => postEvents(s.url, [testEvent({}, { stream })])));
    return answers.map((r) => r.status);
  }

  it('the first config is read from the API under config_path; GET /v1/stream-configs shows it', async () => {
    const r = await request(s.url, '/v1/stream-configs');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['sluice.error.validation', 'test.event']);
    assert.deepEqual(await postMany('test.event'), Array(8).fill(201));
  });

  it('destination_event_service: a stream for another service is not loaded', async () => {
    const ev = testEvent({}, { stream: 'foreign.stream' });
    const r = await postEvents(s.url, [ev]);
    assert.equal(r.status, 400);
    assertInvalidStatus(eventsBody(r).invalid[0], 'StreamNotConfigured', ev);
  });

  it('a refresh picks up a new stream, in the HTTP routes and in every worker', async () => {
    assert.deepEqual(await postMany('new.stream', 1), [400], 'not configured yet');
    api.set(API, apiResponse({ ...BASE_STREAMS, 'new.stream': { schema_title: 'test/event', topic: 'new-topic' } }));
    await waitFor('new.stream in GET /v1/stream-configs', async () => (await request(s.url, '/v1/stream-configs')).body['new.stream'] !== undefined);
    const one = await request(s.url, '/v1/stream-configs/new.stream,no.such.stream');
    assert.deepEqual(one.body, { 'new.stream': { schema_title: 'test/event', topic: 'new-topic' } });
    await waitFor('new.stream accepted', async () => (await postMany('new.stream', 1))[0] === 201);
    assert.deepEqual(await postMany('new.stream'), Array(8).fill(201), 'every worker accepts it');
    assert.ok((await s.readLines('new-topic')).length >= 9);
    assert.ok((await metricValue(s.url, 'sluice_stream_config_refresh_total', { result: 'updated' })) >= 2);
  });

  it('a failed refresh (HTTP 500) keeps the last good config and is counted', async () => {
    const failedBefore = await metricValue(s.url, 'sluice_stream_config_refresh_total', { result: 'failed' });
    await api.during({ status: 500 }, async () => {
      await waitFor('a failed refresh', async () => (await metricValue(s.url, 'sluice_stream_config_refresh_total', { result: 'failed' })) >= failedBefore + 2);
      assert.ok((await request(s.url, '/v1/stream-configs')).body['new.stream']);
      assert.deepEqual(await postMany('new.stream'), Array(8).fill(201));
    });
  });

  it('a refresh that returns a broken document keeps the last good config', async () => {
    const failedBefore = await metricValue(s.url, 'sluice_stream_config_refresh_total', { result: 'failed' });
    api.set(API, JSON.stringify({ streams: { 'test.event': { topic: 'no schema_title' } } }));
    await waitFor('a failed refresh', async () => (await metricValue(s.url, 'sluice_stream_config_refresh_total', { result: 'failed' })) > failedBefore);
    assert.deepEqual(await postMany('new.stream'), Array(8).fill(201));
    assert.ok(s.logs.some((l) => l.level === 40 && /keeping the last good config/.test(l.msg)), 'logged');
  });

  it('a refresh that removes a stream removes it everywhere; the last success is a timestamp', async () => {
    api.set(API, apiResponse(BASE_STREAMS));
    await waitFor('new.stream gone', async () => (await request(s.url, '/v1/stream-configs')).body['new.stream'] === undefined);
    await waitFor('new.stream refused', async () => (await postMany('new.stream', 4)).every((st) => st === 400));
    const last = await metricValue(s.url, 'sluice_stream_config_last_success_timestamp_seconds');
    assert.ok(Math.abs(last - Date.now() / 1000) < 10, `recent: ${last}`);
  });
});

describe('§3 stream config start-up', () => {
  let api: DocServer;
  before(async () => {
    api = await startDocServer();
  });
  after(async () => {
    await api?.close();
  });

  it('Sluice does not serve until the first config is loaded', async () => {
    api.set(API, apiResponse(BASE_STREAMS));
    api.behave({ status: 503 });
    let listening = false;
    const starting = startSluice({ config: remoteStreams(api) });
    void starting.then(() => (listening = true), () => undefined);
    await waitFor('retries of the first load', async () => api.requests(API) >= 3);
    assert.equal(listening, false, 'not listening while the API fails');
    api.behave({});
    const s = await starting;
    try {
      assert.equal((await postEvents(s.url, testEvent())).status, 201);
    } finally {
      await s.stop();
    }
  });

  it('with streams.fallback it starts on the bundled file, then switches to the API once it answers', async () => {
    const fallback = writeYaml(path.join(makeTempDir(), 'streams.yaml'), { 'test.event': { schema_title: 'test/event' }, 'fallback.only': { schema_title: 'test/event' } });
    api.set(API, apiResponse({ ...BASE_STREAMS, 'api.only': { schema_title: 'test/event' } }));
    api.behave({ status: 500 });
    const s = await startSluice({ config: remoteStreams(api, { fallback: `file:${fallback}` }) });
    try {
      assert.deepEqual(Object.keys((await request(s.url, '/v1/stream-configs')).body).sort(), ['fallback.only', 'test.event']);
      assert.equal((await postEvents(s.url, testEvent({}, { stream: 'fallback.only' }))).status, 201);
      api.behave({});
      await waitFor('the API config', async () => (await request(s.url, '/v1/stream-configs')).body['api.only'] !== undefined);
      assert.equal((await request(s.url, '/v1/stream-configs')).body['fallback.only'], undefined);
      assert.equal((await postEvents(s.url, testEvent({}, { stream: 'api.only' }))).status, 201, 'the worker follows');
    } finally {
      api.behave({});
      await s.stop();
    }
  });
});
