/**
 * Kafka faults that are the event's, not the broker's (issue 7): a message over the producer's size
 * limit fails that event only — answered as an error, never acknowledged — and the rest of the batch
 * is delivered.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { postEvents } from '../helpers/http';
import { countRecords, jsonValues, readAll } from '../helpers/kafka-consumer';
import { scrape } from '../helpers/metrics';
import { kafkaFixture, markedEvent, tag, waitForReady } from './support';

/** librdkafka's default message.max.bytes is 1 000 000: an event of 1.5 MB passes Sluice's own limit here. */
const OVERSIZE_CHARS = 1_500_000;

describe('kafka faults: an oversized message', { timeout: 60_000 }, () => {
  const kafka = kafkaFixture();

  it('fails only its own event (207, SinkError), and nothing of it reaches the topic', async () => {
    const k = await kafka.start({ config: { limits: { max_event_bytes: 2_000_000 } } });
    await waitForReady(k.url, 200, 20_000);
    const run = tag();
    const small = markedEvent(k.plain, `${run}-small`);
    const huge = markedEvent(k.plain, `${run}-huge`, { test_map: { filler: 'x'.repeat(OVERSIZE_CHARS) } });
    const r = await postEvents(k.url, [small, huge], { timeoutMs: 30_000 });
    assert.equal(r.status, 207, r.text.slice(0, 300));
    const body = JSON.parse(r.text) as { invalid: unknown[]; error: Array<{ context: { error_type: string }; event: { test: string } }> };
    assert.equal(body.invalid.length, 0);
    assert.equal(body.error.length, 1);
    assert.equal(body.error[0]!.context.error_type, 'SinkError');
    assert.equal(body.error[0]!.event.test, `${run}-huge`, 'the error item echoes the event as received');
    const values = jsonValues(await readAll(kafka.bootstrap, k.plain, { expect: 1, timeoutMs: 20_000 })) as Array<{ test: string }>;
    assert.deepEqual(values.map((v) => v.test), [`${run}-small`]);
    assert.equal(await countRecords(kafka.bootstrap, k.plain), 1);
    // Counted by librdkafka's name for the fault, not as a generic delivery error.
    assert.deepEqual((await scrape(k.sluice.metricsUrl)).labelSets('sluice_sink_errors_total'), ['reason="kafka_msg_size_too_large"']);
  });
});
