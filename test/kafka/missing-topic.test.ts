/**
 * A stream whose Kafka topic does not exist (issue 7), with the producer told not to auto-create topics
 * (`allow.auto.create.topics: false`, per Sluice; the shared test broker keeps auto-creation on for the
 * other tests). Its events must never be answered 2xx-and-lost: they end as `error` within the delivery
 * timeout (207 beside successes, 500 alone), the other streams' events of the same requests are
 * delivered, and every acknowledged event is in Kafka exactly once.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { postEvents, type Resp } from '../helpers/http';
import { countRecords } from '../helpers/kafka-consumer';
import { scrape } from '../helpers/metrics';
import { checkAcknowledged, createTopic, kafkaFixture, markedEvent, tag, waitForReady } from './support';

const DELIVERY_TIMEOUT_MS = 5000;
/** Room for scheduling on a loaded 2-core machine; a request waiting past this has no bound at all. */
const ANSWER_MARGIN_MS = 5000;
const MIXED_REQUESTS = 20;
const ABSENT_ONLY_REQUESTS = 5;

interface Answer {
  markers: string[];
  resp: Resp;
  ms: number;
}

describe('kafka: a stream whose topic does not exist', { timeout: 60_000 }, () => {
  const kafka = kafkaFixture();

  it('its events are errors within the delivery timeout, the rest of each request is delivered, acknowledged = found', async (t) => {
    const absent = `test.kafka.${tag()}.absent`;
    const k = await kafka.start({
      deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
      config: { sink: { kafka: { conf: { 'allow.auto.create.topics': false } } } },
      streams: { [absent]: { schema_title: 'test/event' } },
    });
    await createTopic(kafka.bootstrap, k.plain);
    await waitForReady(k.url, 200, 20_000);
    const run = tag();

    const post = async (markers: string[]): Promise<Answer> => {
      const events = markers.map((m) => markedEvent(m.includes('-absent-') ? absent : k.plain, m));
      const started = Date.now();
      const resp = await postEvents(k.url, events, { timeoutMs: DELIVERY_TIMEOUT_MS + 20_000 });
      return { markers, resp, ms: Date.now() - started };
    };
    const answers = await Promise.all([
      ...Array.from({ length: MIXED_REQUESTS }, (_, i) => post([`${run}-plain-${i}-a`, `${run}-absent-${i}`, `${run}-plain-${i}-b`])),
      ...Array.from({ length: ABSENT_ONLY_REQUESTS }, (_, i) => post([`${run}-absent-only-${i}-a`, `${run}-absent-only-${i}-b`])),
    ]);

    const statuses = answers.map((a) => a.resp.status);
    const slowest = Math.max(...answers.map((a) => a.ms));
    const firstError = JSON.parse(answers[0]!.resp.text)?.error?.[0]?.context?.message;
    const sinkErrors = (await scrape(k.sluice.metricsUrl)).labelSets('sluice_sink_errors_total');
    t.diagnostic(`statuses: ${MIXED_REQUESTS} mixed → ${statuses.slice(0, MIXED_REQUESTS).join(',')}; ${ABSENT_ONLY_REQUESTS} absent-only → ${statuses.slice(MIXED_REQUESTS).join(',')}`);
    t.diagnostic(`slowest answer ${slowest} ms (delivery timeout ${DELIVERY_TIMEOUT_MS} ms); error message: ${firstError}`);
    t.diagnostic(`sluice_sink_errors_total label sets: ${sinkErrors.join(' | ')}`);
    // Sluice's deadline and librdkafka's message.timeout.ms are the same: either may end the wait.
    assert.ok(sinkErrors.length > 0 && sinkErrors.every((labels) => /^reason="(delivery_timeout|kafka_[a-z_]+)"$/.test(labels)), sinkErrors.join(' | '));
    assert.ok(String(firstError).includes(absent) || String(firstError).startsWith('kafka: '), `the error names the topic, or is librdkafka's: ${firstError}`);

    const acked: string[] = [];
    for (const a of answers) {
      assert.ok(a.ms < DELIVERY_TIMEOUT_MS + ANSWER_MARGIN_MS, `answered within the delivery timeout (+margin): ${a.ms} ms`);
      const absentOnly = a.markers[0]!.includes('-absent-only-');
      assert.equal(a.resp.status, absentOnly ? 500 : 207, a.resp.text.slice(0, 300));
      const body = JSON.parse(a.resp.text) as { invalid: unknown[]; error: Array<{ status: string; event: { test: string }; context: { error_type: string } }> };
      assert.equal(body.invalid.length, 0);
      const failed = a.markers.filter((m) => m.includes('-absent-'));
      assert.deepEqual(body.error.map((e) => e.event.test), failed, 'exactly the absent stream events are errors, in input order');
      for (const e of body.error) assert.deepEqual([e.status, e.context.error_type], ['error', 'SinkError']);
      acked.push(...a.markers.filter((m) => !failed.includes(m)));
    }

    const check = await checkAcknowledged(kafka.bootstrap, k.plain, acked);
    t.diagnostic(`acknowledged ${check.acked}, found ${check.found}, missing ${check.missing.length}, duplicated ${check.duplicated.length}, records in ${k.plain}: ${check.records.length}`);
    assert.deepEqual(check.missing, []);
    assert.deepEqual(check.duplicated, []);
    assert.equal(check.records.length, acked.length, 'nothing but the acknowledged events in the topic');
    assert.equal(await countRecords(kafka.bootstrap, absent), 0, 'the absent topic was not created behind our back');

    const after = markedEvent(k.plain, `${run}-after`);
    assert.equal((await postEvents(k.url, after)).status, 201, 'the other stream keeps working');
  });
});
