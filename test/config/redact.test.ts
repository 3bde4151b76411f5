/** DESIGN.md §8: the effective config as logged at start-up carries no credentials. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { redactedConfig } from '../../src/config/redact';
import { baseConfig, deepMerge, makeTempDir, writeYaml } from '../helpers/server';

function configWith(over: Record<string, unknown>) {
  const dir = makeTempDir();
  return loadConfig(writeYaml(path.join(dir, 'sluice.yaml'), deepMerge(baseConfig(path.join(dir, 'events')), over)), {});
}

describe('§8 redacted effective config', () => {
  it('redacts librdkafka keys matching password, secret, sasl. or ssl.key in conf, hasty and guaranteed', () => {
    const config = configWith({
      sink: { kafka: { conf: { 'sasl.password': 'p', 'ssl.key.pem': 'k', 'bootstrap.servers': 'b:9092' }, guaranteed: { 'sasl.oauthbearer.client.secret': 's', acks: 'all' } } },
    });
    const kafka = (redactedConfig(config) as any).sink.kafka; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual(kafka.conf, { 'sasl.password': '[redacted]', 'ssl.key.pem': '[redacted]', 'bootstrap.servers': 'b:9092' });
    assert.deepEqual(kafka.guaranteed, { 'sasl.oauthbearer.client.secret': '[redacted]', acks: 'all' });
  });

  it('redacts the user-info part of URLs, keeping the rest', () => {
    const config = configWith({ schemas: { base_uris: ['file:schemas/', 'https://bot:tok3n@schemas.example/repo/'], precache: [] } });
    assert.deepEqual((redactedConfig(config) as any).schemas.base_uris, ['file:schemas/', 'https://[redacted]@schemas.example/repo/']); // eslint-disable-line @typescript-eslint/no-explicit-any
  });

  it('leaves the config itself untouched', () => {
    const config = configWith({ sink: { kafka: { conf: { 'sasl.password': 'p' } } } });
    redactedConfig(config);
    assert.equal(config.sink.kafka.conf['sasl.password'], 'p');
  });
});
