/**
 * librdkafka's queue full (DESIGN.md §7): what it has no room for waits in the sink's backlog, in order,
 * and goes to Kafka as room frees, so an event answered 2xx is never dropped for want of room; new
 * requests meanwhile get 503 + Retry-After. The queue is made tiny here so that one request's events
 * overflow it.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { postEvents } from '../helpers/http';
import { assertProblem } from '../helpers/events';
import { jsonValues, readAll } from '../helpers/kafka-consumer';
import { scrape } from '../helpers/metrics';
import { kafkaFixture, markedEvent, tag, waitForReady } from './support';

const QUEUE_MESSAGES = 10;
const EVENTS = 45;
/** Each round of QUEUE_MESSAGES waits this long in the queue: the window in which the queue is full. */
const LINGER_MS = 600;

describe("kafka: librdkafka's queue full", { timeout: 60_000 }, () => {
  const kafka = kafkaFixture();

  it('refuses new requests with 503 while full, and delivers every event it had no room for, in order', async () => {
    const k = await kafka.start({
      // A long linger keeps the first messages in the queue while the rest of the request arrives.
      config: { sink: { kafka: { conf: { 'queue.buffering.max.messages': QUEUE_MESSAGES }, hasty: { 'linger.ms': LINGER_MS } } } },
    });
    await waitForReady(k.url, 200, 20_000);
    const run = tag();
    const markers = Array.from({ length: EVENTS }, (_, i) => `${run}-${i}`);
    const hasty = await postEvents(k.url, markers.map((m) => markedEvent(k.plain, m)), { query: 'hasty=true' });
    assert.equal(hasty.status, 202, hasty.text);

    // While events wait for room, new requests are refused at once (DESIGN.md §7), not queued without bound.
    const full = await waitForReady(k.url, 503, 5_000);
    assert.match(String(full.body.detail), /producer queue full/);
    const refused = await postEvents(k.url, [markedEvent(k.plain, `${run}-refused`)]);
    const problem = assertProblem(refused, 503, 'Overloaded');
    assert.match(problem.detail, /producer queue full/);
    assert.equal(refused.headers['retry-after'], '1');
    // Filtered by the run's marker: the topic may also hold the readiness probe's event.
    const values = jsonValues(await readAll(kafka.bootstrap, k.plain, { expect: EVENTS, timeoutMs: 20_000 })) as Array<{ test: string }>;
    assert.deepEqual(values.map((v) => v.test).filter((t) => t.startsWith(run)), markers);

    // Once the backlog has drained, a guaranteed request is answered from its delivery reports.
    await waitForReady(k.url, 200, 10_000);
    const guaranteed = await postEvents(k.url, markers.slice(0, 3).map((m) => markedEvent(k.plain, `${m}-again`)));
    assert.equal(guaranteed.status, 201, guaranteed.text);
    assert.deepEqual((await scrape(k.sluice.metricsUrl)).labelSets('sluice_sink_errors_total'), []);
  });
});
