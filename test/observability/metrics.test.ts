/**
 * DESIGN.md §8 metrics: names, types, labels and exact counts after a known mix of requests, bounded
 * label values, and the optional metrics.port listener.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDir, startSluice, useSluice, waitFor, writeYaml, type Sluice } from '../helpers/server';
import { postEvents, rawHead, request } from '../helpers/http';
import { invalidTestEvent, testEvent } from '../helpers/events';
import { scrape, scrapeUntil, type Scrape } from '../helpers/metrics';
import { MIX_EVENTS, parseLabels, sendMix, settledScrape, startWithBrokenStream } from '../helpers/request-mix';

const STREAMS = ['test.event', 'broken.stream', 'sluice.error.validation', 'other'];

describe('§8 metrics after a known mix of requests', () => {
  let s: Sluice;
  let statuses: number[];
  let m: Scrape;
  before(async () => {
    s = await startWithBrokenStream();
    statuses = await sendMix(s.url);
    m = await settledScrape(s.url);
  });
  after(async () => {
    await s?.stop();
  });

  it('the mix is answered as DESIGN.md §2.3 says', () => {
    const sinkFailure = statuses[3] === 503 ? 503 : 500;
    assert.deepEqual(statuses, [201, 400, 207, sinkFailure, 400, 202, 413, 415, 200, 404]);
  });

  it('every §8 metric is exported with its type', () => {
    const types: Record<string, string> = {
      sluice_http_requests_total: 'counter',
      sluice_http_request_duration_seconds: 'histogram',
      sluice_events_total: 'counter',
      sluice_event_bytes_total: 'counter',
      sluice_validation_errors_total: 'counter',
      sluice_batch_size_requests: 'histogram',
      sluice_batch_size_events: 'histogram',
      sluice_task_stage_seconds: 'histogram',
      sluice_pool_queue_depth: 'gauge',
      sluice_pool_utilization: 'gauge',
      sluice_sink_queue_messages: 'gauge',
      sluice_sink_delivery_seconds: 'histogram',
      sluice_sink_errors_total: 'counter',
      sluice_inflight_bytes: 'gauge',
      sluice_schema_cache_total: 'counter',
      sluice_hasty_refused_requests_total: 'counter',
      sluice_cpu_wait_seconds_total: 'counter',
      sluice_process_cpu_seconds_total: 'counter',
      sluice_nodejs_eventloop_lag_seconds: 'gauge',
    };
    for (const [name, type] of Object.entries(types)) assert.equal(m.type(name), type, name);
  });

  it('sluice_events_total counts every event once, by stream and final outcome', () => {
    for (const [stream, outcomes] of Object.entries(MIX_EVENTS)) {
      for (const [outcome, n] of Object.entries(outcomes)) assert.equal(m.value('sluice_events_total', { stream, outcome }), n, `${stream} ${outcome}`);
    }
  });

  it('stream labels come from configured streams only; unknown streams fold into other', () => {
    for (const name of ['sluice_events_total', 'sluice_event_bytes_total', 'sluice_validation_errors_total']) {
      for (const labels of m.labelSets(name)) assert.ok(STREAMS.includes(parseLabels(labels).stream!), `${name}{${labels}}`);
    }
    assert.ok(!m.text.includes('no.such.stream'));
  });

  it('sluice_http_requests_total counts every answer by route and status, refusals included', () => {
    const intake = { '201': 1, '400': 2, '207': 1, [String(statuses[3])]: 1, '202': 1, '413': 1, '415': 1 };
    for (const [status, n] of Object.entries(intake)) assert.equal(m.value('sluice_http_requests_total', { route: '/v1/events', status }), n, status);
    assert.equal(m.value('sluice_http_requests_total', { route: '/healthz', status: '200' }), 1);
    assert.equal(m.value('sluice_http_requests_total', { route: 'other', status: '404' }), 1);
  });

  it('sluice_http_request_duration_seconds observes each intake answer once, by mode', () => {
    assert.equal(m.value('sluice_http_request_duration_seconds_count', { route: '/v1/events', mode: 'guaranteed' }), 7);
    assert.equal(m.value('sluice_http_request_duration_seconds_count', { route: '/v1/events', mode: 'hasty' }), 1);
    assert.ok(m.labelSets('sluice_http_request_duration_seconds_bucket').some((l) => l.startsWith('le="0.0001"')), 'buckets go down to 100 µs');
  });

  it('sluice_validation_errors_total counts refused events by stream, schema and error_type', () => {
    assert.equal(m.value('sluice_validation_errors_total', { stream: 'test.event', schema_uri: 'test/event/1.0.0', error_type: 'ValidationError' }), 2);
    assert.equal(m.value('sluice_validation_errors_total', { stream: 'other', schema_uri: 'other', error_type: 'StreamNotConfigured' }), 1);
  });

  it('schema labels are compiled repository schemas only; unknown schema URIs fold into other', async () => {
    const r = await postEvents(s.url, [{ ...testEvent(), $schema: '/no/such/schema/9.9.9' }, { ...testEvent(), $schema: '/test/./event/../event/1.0.0' }]);
    assert.equal(r.status, 400);
    const after = await scrape(s.url);
    assert.ok(after.value('sluice_validation_errors_total', { stream: 'test.event', schema_uri: 'other', error_type: 'SchemaNotFound' }) >= 1);
    for (const labels of after.labelSets('sluice_validation_errors_total')) {
      assert.ok(['test/event/1.0.0', 'other'].includes(parseLabels(labels).schema_uri!), labels);
    }
  });

  it('sluice_event_bytes_total is the bytes the sink wrote for the stream', async () => {
    const lines = fs.readFileSync(path.join(s.dataDir, 'test.event.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 4);
    assert.equal(m.value('sluice_event_bytes_total', { stream: 'test.event' }), lines.reduce((n, l) => n + Buffer.byteLength(l), 0));
  });

  it('sink and batch metrics: one sink error, one error event per refused event, every event in a batch', () => {
    // The broken stream's file is a directory: the reason is the write's errno.
    assert.deepEqual(m.labelSets('sluice_sink_errors_total'), ['reason="file_eisdir"']);
    assert.equal(m.value('sluice_sink_errors_total', { reason: 'file_eisdir' }), 1);
    assert.equal(m.value('sluice_error_events_total', { result: 'produced' }), 3);
    assert.equal(m.value('sluice_batch_size_events_sum'), 8);
    assert.equal(m.value('sluice_sink_queue_messages'), 0);
    assert.equal(m.value('sluice_inflight_bytes'), 0);
  });

  it('sluice_task_stage_seconds times every worker task in each of its four stages', () => {
    const tasks = m.value('sluice_batch_size_requests_count');
    assert.ok(tasks >= 1);
    for (const stage of ['batching', 'to_worker', 'worker', 'to_main']) {
      assert.equal(m.value('sluice_task_stage_seconds_count', { stage }), tasks, stage);
      assert.ok(m.value('sluice_task_stage_seconds_sum', { stage }) >= 0, stage);
    }
    // Parsing and validating takes some time; the stamps come from the worker itself.
    assert.ok(m.value('sluice_task_stage_seconds_sum', { stage: 'worker' }) > 0);
    assert.deepEqual(m.labelSets('sluice_task_stage_seconds_count').sort(), ['stage="batching"', 'stage="to_main"', 'stage="to_worker"', 'stage="worker"']);
  });

  it('sluice_cpu_wait_seconds_total: how long each kind of thread waited for a CPU, never going down', async () => {
    assert.deepEqual(m.labelSets('sluice_cpu_wait_seconds_total').sort(), ['thread="librdkafka"', 'thread="main"', 'thread="other"']);
    assert.equal(m.value('sluice_cpu_wait_seconds_total', { thread: 'librdkafka' }), 0, 'the file sink starts no librdkafka threads');
    const later = await scrape(s.url);
    for (const thread of ['main', 'other']) {
      const first = m.value('sluice_cpu_wait_seconds_total', { thread });
      assert.ok(first >= 0 && later.value('sluice_cpu_wait_seconds_total', { thread }) >= first, thread);
    }
  });

  it('GET /v1/_test/events is counted under its own route, not as POST /v1/events', async () => {
    const before = await scrape(s.url);
    assert.equal((await request(s.url, '/v1/_test/events')).status, 201);
    const after = await scrape(s.url);
    assert.equal(after.value('sluice_http_requests_total', { route: '/v1/_test/events', status: '201' }), 1);
    assert.equal(after.value('sluice_http_request_duration_seconds_count', { route: '/v1/_test/events', mode: 'guaranteed' }), 1);
    assert.equal(after.value('sluice_http_requests_total', { route: '/v1/events', status: '201' }), before.value('sluice_http_requests_total', { route: '/v1/events', status: '201' }));
  });
});

describe('§8 sluice_hasty_refused_requests_total: hasty bodies refused whole after their 202', () => {
  const s = useSluice();

  it('counts each such request once by error_type; a hasty request with events counts none', async () => {
    for (const body of ['{"broken', '[]', '[]']) assert.equal((await postEvents(s.url, body, { query: 'hasty=true' })).status, 202);
    assert.equal((await postEvents(s.url, [testEvent()], { query: 'hasty=true' })).status, 202);
    const m = await scrapeUntil(s.url, 'all four hasty requests counted', (m) => m.value('sluice_events_total', { stream: 'test.event', outcome: 'success' }) >= 1 && m.value('sluice_hasty_refused_requests_total', { error_type: 'EmptyBody' }) >= 2);
    assert.equal(m.value('sluice_hasty_refused_requests_total', { error_type: 'MalformedBody' }), 1);
    assert.equal(m.value('sluice_hasty_refused_requests_total', { error_type: 'EmptyBody' }), 2);
    assert.equal(m.labelSets('sluice_hasty_refused_requests_total').length, 2);
  });
});

describe('§6 sluice_error_events_total{result="dropped"}: error events that could not be made', () => {
  /** A Sluice whose /error/1.0.0 is the given schema, shadowing the bundled one. */
  async function withErrorSchema(schema: Record<string, unknown>): Promise<Sluice> {
    const base = makeTempDir('sluice-error-schema-');
    writeYaml(path.join(base, 'error/1.0.0.yaml'), schema);
    return startSluice({ config: { schemas: { base_uris: [`file:${base}/`, 'file:schemas/'] } } });
  }

  async function droppedAfterOneInvalid(s: Sluice): Promise<Scrape> {
    assert.equal((await postEvents(s.url, [invalidTestEvent()])).status, 400);
    return scrapeUntil(s.url, 'a dropped error event counted', (m) => m.value('sluice_error_events_total', { result: 'dropped' }) >= 1);
  }

  it('counts one per invalid event when the error schema does not compile, and logs the schema once', async () => {
    const s = await withErrorSchema({ title: 'error', $id: '/error/1.0.0', type: 'object', properties: { dt: { type: 'nonsense' } } });
    try {
      const m = await droppedAfterOneInvalid(s);
      assert.equal(m.value('sluice_error_events_total', { result: 'dropped' }), 1);
      assert.equal(m.value('sluice_error_events_total', { result: 'produced' }), 0);
      await waitFor('the schema-unusable log line', 5000, () => s.logs.some((l) => l.kind === 'schema-unusable'));
      assert.deepEqual(s.logs.filter((l) => l.kind === 'schema-unusable').map((l) => l.schema), ['error/1.0.0']);
    } finally {
      await s.stop();
    }
  });

  it('counts one per invalid event when the error event fails the error schema', async () => {
    const s = await withErrorSchema({ title: 'error', $id: '/error/1.0.0', type: 'object', required: ['a_field_sluice_never_sets'] });
    try {
      const m = await droppedAfterOneInvalid(s);
      assert.equal(m.value('sluice_error_events_total', { result: 'dropped' }), 1);
      assert.equal(m.value('sluice_error_events_total', { result: 'produced' }), 0);
    } finally {
      await s.stop();
    }
  });
});

describe('§8 metrics.port: a listener of its own for scrapes', () => {
  const s = useSluice({ config: { metrics: { path: '/metrics', port: 0 } } });

  it('serves GET /metrics on its own port, counting intake traffic from the main one', async () => {
    assert.notEqual(s.metricsUrl, s.url);
    assert.equal((await postEvents(s.url, [testEvent()])).status, 201);
    const m = await scrape(s.metricsUrl);
    assert.equal(m.value('sluice_http_requests_total', { route: '/v1/events', status: '201' }), 1);
    assert.equal(m.type('sluice_events_total'), 'counter');
  });

  it('serves /healthz there too, and nothing else', async () => {
    assert.equal((await request(s.metricsUrl, '/healthz')).status, 200);
    assert.equal((await request(s.metricsUrl, '/v1/stream-configs')).status, 404);
    assert.equal((await request(s.metricsUrl, '/v1/events', { method: 'POST', body: '[]' })).status, 404);
  });

  it('answers HEAD on both routes with their headers and no body', async () => {
    for (const p of ['/metrics', '/healthz']) {
      const r = await rawHead(Number(new URL(s.metricsUrl).port), p);
      assert.equal(r.status, 200, p);
      assert.ok(Number(r.headers['content-length']) > 0, `${p}: Content-Length ${r.headers['content-length']}`);
      assert.equal(r.body, '', `${p}: no body`);
    }
  });

  it('the main listener no longer answers the metrics path, nor lists it in its OpenAPI document', async () => {
    assert.equal((await request(s.url, '/metrics')).status, 404);
    const spec = (await request(s.url, '/?spec')).body;
    assert.ok(spec.paths['/v1/events']);
    assert.equal(spec.paths['/metrics'], undefined);
  });
});
