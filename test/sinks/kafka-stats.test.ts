/** DESIGN.md §8: librdkafka statistics (statistics.interval.ms) as gauges, from the JSON it emits. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Metrics } from '../../src/metrics';
import { KafkaStats } from '../../src/sinks/kafka-stats';
import { Scrape } from '../helpers/metrics';

/** A trimmed librdkafka statistics document: two brokers, one of them down. */
function statsEvent(txerrs: number): { message: string } {
  return {
    message: JSON.stringify({
      name: 'sluice-guaranteed#producer-1',
      type: 'producer',
      msg_cnt: 12,
      brokers: {
        'k1:9092/1': { name: 'k1:9092/1', nodeid: 1, state: 'UP', rtt: { min: 800, max: 9000, avg: 1500, p50: 1200, p99: 8000 }, outbuf_msg_cnt: 3, txerrs },
        'k2:9092/2': { name: 'k2:9092/2', nodeid: 2, state: 'DOWN', rtt: { min: 0, max: 0, avg: 0, p50: 0, p99: 0 }, outbuf_msg_cnt: 0, txerrs: 0 },
      },
      topics: {},
    }),
  };
}

async function scrapeOf(metrics: Metrics): Promise<Scrape> {
  return new Scrape(await metrics.registry.metrics());
}

describe('§8 librdkafka statistics as gauges', () => {
  it('exports broker state, rtt, outbound queue and the producer queue by mode and broker', async () => {
    const metrics = new Metrics();
    new KafkaStats(metrics).record('guaranteed', statsEvent(0));
    const m = await scrapeOf(metrics);
    assert.equal(m.value('sluice_kafka_broker_up', { mode: 'guaranteed', broker: 'k1:9092/1' }), 1);
    assert.equal(m.value('sluice_kafka_broker_up', { mode: 'guaranteed', broker: 'k2:9092/2' }), 0);
    assert.equal(m.value('sluice_kafka_broker_rtt_seconds', { mode: 'guaranteed', broker: 'k1:9092/1', stat: 'avg' }), 0.0015);
    assert.equal(m.value('sluice_kafka_broker_rtt_seconds', { mode: 'guaranteed', broker: 'k1:9092/1', stat: 'p99' }), 0.008);
    assert.equal(m.value('sluice_kafka_broker_outbuf_messages', { mode: 'guaranteed', broker: 'k1:9092/1' }), 3);
    assert.equal(m.value('sluice_kafka_queue_messages', { mode: 'guaranteed' }), 12);
    assert.equal(m.type('sluice_kafka_broker_tx_errors_total'), 'counter');
  });

  it("tx errors count what librdkafka's cumulative txerrs added, from 0", async () => {
    const metrics = new Metrics();
    const stats = new KafkaStats(metrics);
    stats.record('hasty', statsEvent(0));
    assert.equal((await scrapeOf(metrics)).value('sluice_kafka_broker_tx_errors_total', { mode: 'hasty', broker: 'k1:9092/1' }), 0);
    stats.record('hasty', statsEvent(4));
    stats.record('hasty', statsEvent(7));
    assert.equal((await scrapeOf(metrics)).value('sluice_kafka_broker_tx_errors_total', { mode: 'hasty', broker: 'k1:9092/1' }), 7);
  });

  it('a malformed statistics line changes nothing and does not throw', async () => {
    const metrics = new Metrics();
    new KafkaStats(metrics).record('hasty', { message: '{"msg_cnt": 1, "brokers": ' });
    assert.deepEqual((await scrapeOf(metrics)).labelSets('sluice_kafka_broker_up'), []);
  });
});
