/**
 * DESIGN.md §8, against the real local broker: with statistics.interval.ms set, librdkafka's statistics
 * show up in /metrics as broker state, rtt, outbound and producer queue gauges for both producers.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { postEvents } from '../helpers/http';
import { scrape, type Scrape } from '../helpers/metrics';
import { sleep } from '../helpers/server';
import { kafkaFixture, markedEvent, waitForReady } from './support';

const STATS_INTERVAL_MS = 200;

async function scrapeUntil(url: string, done: (m: Scrape) => boolean): Promise<Scrape> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = await scrape(url);
    if (done(m) || Date.now() > deadline) return m;
    await sleep(STATS_INTERVAL_MS);
  }
}

describe('kafka sink: librdkafka statistics as gauges', { timeout: 120_000 }, () => {
  const kafka = kafkaFixture();

  it('reports every broker UP with an rtt, and the queues, per producer mode', async () => {
    const k = await kafka.start({ config: { sink: { kafka: { conf: { 'statistics.interval.ms': STATS_INTERVAL_MS } } } } });
    await waitForReady(k.url, 200, 30_000);
    assert.equal((await postEvents(k.url, [markedEvent(k.plain, 'stats')])).status, 201);
    const up = (m: Scrape, mode: string) => m.labelSets('sluice_kafka_broker_up').filter((l) => l.includes(`mode="${mode}"`) && m.text.includes(`sluice_kafka_broker_up{${l}} 1`));
    const m = await scrapeUntil(k.url, (s) => up(s, 'guaranteed').length > 0 && up(s, 'hasty').length > 0 && s.labelSets('sluice_kafka_broker_rtt_seconds').length > 0);
    for (const mode of ['guaranteed', 'hasty']) {
      assert.ok(up(m, mode).length >= 1, `${mode}: a broker UP`);
      assert.ok(m.labelSets('sluice_kafka_queue_messages').includes(`mode="${mode}"`), `${mode}: producer queue`);
    }
    assert.ok(m.labelSets('sluice_kafka_broker_outbuf_messages').length >= 2);
    assert.ok(m.labelSets('sluice_kafka_broker_tx_errors_total').length >= 2);
  });

  it('exports nothing from librdkafka when statistics.interval.ms is not set', async () => {
    const k = await kafka.start();
    await waitForReady(k.url, 200, 30_000);
    await sleep(500);
    assert.deepEqual((await scrape(k.url)).labelSets('sluice_kafka_broker_up'), []);
  });
});
