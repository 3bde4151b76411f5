/**
 * The kafka sink's close, in-process against the real broker: each producer stops polling before
 * node-rdkafka disconnects it, since a poll during the disconnect can crash the process (see
 * stopPollingThenDisconnect in src/sinks/kafka-sink.ts).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Producer } from 'node-rdkafka';
import { loadConfig } from '../../src/config/load';
import { createLogger } from '../../src/log';
import { Metrics } from '../../src/metrics';
import { KafkaSink } from '../../src/sinks/kafka-sink';
import { KafkaStats } from '../../src/sinks/kafka-stats';
import { baseConfig, deepMerge, makeTempDir, writeYaml } from '../helpers/server';
import { kafkaFixture, waitFor } from './support';

/** node-rdkafka keeps its poll timer here while one runs; the typings leave it out. */
const pollTimerOf = (producer: Producer): unknown => (producer as unknown as { pollInterval?: unknown }).pollInterval;

describe('kafka sink: close', { timeout: 60_000 }, () => {
  const kafka = kafkaFixture();

  it('stops each producer polling before it disconnects it', async () => {
    const dir = makeTempDir('sluice-kafka-close-');
    const file = writeYaml(path.join(dir, 'sluice.yaml'), deepMerge(baseConfig(dir), { sink: { type: 'kafka', kafka: { conf: { 'bootstrap.servers': kafka.bootstrap } } } }));
    const sink = new KafkaSink(loadConfig(file, {}), createLogger('silent'), new KafkaStats(new Metrics()));
    await waitFor('the sink to connect', 20_000, () => sink.unavailable() === null);

    const disconnect = Producer.prototype.disconnect;
    const pollingAtDisconnect: boolean[] = [];
    Producer.prototype.disconnect = function (this: Producer, ...args: Parameters<Producer['disconnect']>) {
      pollingAtDisconnect.push(pollTimerOf(this) !== undefined);
      return disconnect.apply(this, args);
    } as Producer['disconnect'];
    try {
      await sink.close(5_000);
    } finally {
      Producer.prototype.disconnect = disconnect;
    }
    // One call per delivery mode, neither with its poll timer still running.
    assert.deepEqual(pollingAtDisconnect, [false, false]);
  });
});
