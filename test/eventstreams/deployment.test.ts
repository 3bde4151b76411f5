/**
 * DESIGN.md §10 deployment choices: one topic per topic prefix (a stream spread over datacenters),
 * topics that appear after a client connected, a listener of its own (eventstreams.port), shutdown
 * with streams open, and clear answers when the route is off or has no Kafka.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { parse } from 'yaml';
import { request } from '../helpers/http';
import { sleep, useSluice } from '../helpers/server';
import { openSse } from '../helpers/sse';
import { metricValue } from '../helpers/metrics';
import { kafkaFixture, tag, waitFor, waitForReady } from '../kafka/support';
import { post } from './support';

describe('§10 EventStreams deployments', { timeout: 120_000 }, () => {
  const kafka = kafkaFixture();

  it('with topic_prefixes [dc1., dc2.] a stream reads both datacenters\' topics, and its ids resume both', async () => {
    const dc1 = await kafka.start({
      config: ({ plain }) => ({ streams: { topic_prefix: 'dc1.' }, eventstreams: { enabled: true, allowed_streams: [plain], topic_prefixes: ['dc1.', 'dc2.'] } }),
    });
    // A second intake for the same streams, producing to the other datacenter's topics.
    const streamsLocation = parse(fs.readFileSync(dc1.sluice.configFile, 'utf8')).streams.config;
    const dc2 = await kafka.start({ config: { streams: { config: streamsLocation, topic_prefix: 'dc2.' } } });
    await Promise.all([waitForReady(dc1.url, 200, 20_000), waitForReady(dc2.url, 200, 20_000)]);
    const stream = dc1.plain;
    await post(dc1, stream, ['warm-up']);
    await post(dc2, stream, ['warm-up']);

    const run = tag();
    const reader = openSse(dc1.url, `/v2/stream/${stream}`);
    await reader.opened;
    await post(dc1, stream, [`${run}-1a`, `${run}-1b`]);
    await post(dc2, stream, [`${run}-2a`, `${run}-2b`]);
    await reader.waitForEvents(4, 15_000);
    reader.close();
    const seen = reader.events.map((e) => JSON.parse(e.data).test).sort();
    assert.deepEqual(seen, [`${run}-1a`, `${run}-1b`, `${run}-2a`, `${run}-2b`]);
    const lastId = JSON.parse(reader.events[3]!.id);
    assert.deepEqual(lastId.map((m: { topic: string }) => m.topic).sort(), [`dc1.${stream}`, `dc2.${stream}`]);

    await post(dc2, stream, [`${run}-2c`]);
    await post(dc1, stream, [`${run}-1c`]);
    const resumed = openSse(dc1.url, `/v2/stream/${stream}`, { 'Last-Event-ID': reader.events[3]!.id });
    await resumed.waitForEvents(2, 15_000);
    resumed.close();
    assert.deepEqual(resumed.events.map((e) => JSON.parse(e.data).test).sort(), [`${run}-1c`, `${run}-2c`]);
  });

  it('with eventstreams.port the route is served on that listener only', async () => {
    const k = await kafka.start({ config: ({ plain }) => ({ eventstreams: { enabled: true, port: 0, allowed_streams: [plain] } }) });
    await waitForReady(k.url, 200, 20_000);
    await post(k, k.plain, ['warm-up']);
    const port = k.sluice.logs.find((l) => l.msg === 'listening')?.eventstreams_port;
    assert.equal(typeof port, 'number');
    assert.notEqual(port, k.sluice.port);
    const own = openSse(`http://127.0.0.1:${port}`, `/v2/stream/${k.plain}`);
    await own.opened;
    assert.equal(own.status, 200);
    await post(k, k.plain, ['on-own-port']);
    await own.waitForEvents(1, 15_000);
    own.close();
    assert.equal((await request(k.url, `/v2/stream/${k.plain}`)).status, 404, 'not on the intake port');
    assert.equal((await request(`http://127.0.0.1:${port}`, '/v1/stream-configs')).status, 404, 'nothing else on the stream port');
  });

  it('a stream whose topic does not exist yet opens with no partitions (the topic is not created) and picks it up with its first event', async () => {
    const k = await kafka.start({ config: ({ keyed }) => ({ eventstreams: { enabled: true, allowed_streams: [keyed], discovery_interval_ms: 300 } }) });
    await waitForReady(k.url, 200, 20_000);
    const reader = openSse(k.url, `/v2/stream/${k.keyed}`);
    await reader.opened;
    assert.equal(reader.status, 200);
    await sleep(1000);
    assert.deepEqual(reader.comments, ['reading 0 partitions'], 'the topic was looked up, not created');
    await post(k, k.keyed, ['first-ever']);
    await reader.waitForEvents(1, 15_000);
    reader.close();
    assert.equal(JSON.parse(reader.events[0]!.data).test, 'first-ever');
    assert.deepEqual(JSON.parse(reader.events[0]!.id), [{ topic: k.keyed, partition: 0, offset: 0 }]);
  });

  it('SIGTERM ends open streams and closes their consumers; the process exits 0', async () => {
    const k = await kafka.start({ config: ({ plain }) => ({ eventstreams: { enabled: true, allowed_streams: [plain] } }) });
    await waitForReady(k.url, 200, 20_000);
    await post(k, k.plain, ['warm-up']);
    const readers = [openSse(k.url, `/v2/stream/${k.plain}`), openSse(k.url, `/v2/stream/${k.plain}`)];
    await Promise.all(readers.map((r) => r.opened));
    const started = Date.now();
    assert.equal(await k.sluice.stop(), 0);
    await Promise.all(readers.map((r) => r.closed));
    assert.ok(Date.now() - started < 10_000, `stopped in ${Date.now() - started} ms`);
    assert.ok(k.sluice.logs.some((l) => l.msg === 'shut down'));
  });
});

describe('§10 EventStreams without Kafka', () => {
  const s = useSluice({ config: { eventstreams: { enabled: true, allowed_streams: ['test.event'] } } });

  it('the file sink and no eventstreams.kafka.conf: 503 with a problem body naming the missing setting', async () => {
    const r = await request(s.url, '/v2/stream/test.event');
    assert.equal(r.status, 503);
    assert.equal(r.body.type, 'urn:sluice:problem:StreamSourceUnavailable');
    assert.match(r.body.detail, /bootstrap\.servers/);
  });
});

describe('§10 EventStreams with Kafka unreachable', () => {
  const s = useSluice({ config: { eventstreams: { enabled: true, allowed_streams: ['test.event'], kafka: { conf: { 'bootstrap.servers': '127.0.0.1:1' }, timeout_ms: 1000 } } } });

  it('answers 503 after eventstreams.kafka.timeout_ms and closes the consumer it opened', async () => {
    const r = await request(s.url, '/v2/stream/test.event');
    assert.equal(r.status, 503);
    assert.equal(r.body.type, 'urn:sluice:problem:StreamSourceUnavailable');
    await waitFor('the consumer closed', 20_000, async () => (await metricValue(s.url, 'sluice_eventstreams_consumers')) === 0);
    assert.equal(await metricValue(s.url, 'sluice_eventstreams_clients'), 0);
  });
});

describe('§10 EventStreams disabled (the default)', () => {
  const s = useSluice();

  it('GET /v2/stream/… is not routed: 404', async () => {
    assert.equal((await request(s.url, '/v2/stream/test.event')).status, 404);
  });
});
