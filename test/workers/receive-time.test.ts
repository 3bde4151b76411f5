/**
 * DESIGN.md §5 step 4 and §7: meta.dt is each request's own receive time, and so is the Kafka timestamp,
 * when the requests of one task were received in different milliseconds (the worker formats a receive
 * time once and reuses it for the requests that share it).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { encodeTask, MESSAGE_FIELDS, MessageField, Task, TaskResult, type TaskInput } from '../../src/batching/wire';
import { loadConfig } from '../../src/config/load';
import { SchemaRepository, repositoryOptions } from '../../src/schemas/repository';
import { loadStreamConfig, streamConfigLocation } from '../../src/streams/source';
import { StreamTable } from '../../src/streams/stream-config';
import { Pipeline } from '../../workers/pipeline';
import { ResultBuilder } from '../../workers/result-builder';
import { SchemaCache } from '../../workers/schema-cache';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

async function pipelineOf(): Promise<Pipeline> {
  const config = loadConfig(path.join(REPO_ROOT, 'config/default.yaml'), {});
  const schemas = new SchemaCache(new SchemaRepository(repositoryOptions(config.schemas, REPO_ROOT, new Map())), false, 1000);
  const streams = new StreamTable(await loadStreamConfig(streamConfigLocation(config.streams, 'config', REPO_ROOT)!), config.streams.topic_prefix, config.service_name);
  return new Pipeline(config, streams, schemas);
}

function request(receivedAt: number, marker: string): TaskInput {
  const event = { $schema: '/test/event/1.0.0', meta: { stream: 'test.event' }, test: marker };
  return { body: Buffer.from(JSON.stringify(event)), flags: 0, receivedAt, requestId: marker, clientIp: '', headers: ['', ''] };
}

describe('receive time per request', () => {
  it('requests of one task get their own meta.dt and Kafka timestamp, shared or not', async () => {
    const pipeline = await pipelineOf();
    const t = Date.UTC(2026, 10, 23, 4, 5, 6, 7);
    const times = [t, t, t + 1, t + 1, t, t + 1000, t + 1000, t - 86_400_000];
    const buffer = encodeTask(times.map((at, i) => request(at, `r${i}`)), 2);
    const out = new ResultBuilder(times.length);
    await pipeline.run(new Task(buffer), out);
    const result = new TaskResult(out.build());
    assert.equal(result.timestamps.length, times.length, 'one message per request');
    for (let m = 0; m < times.length; m++) {
      const r = result.messages[m * MESSAGE_FIELDS + MessageField.Request]!;
      const value = JSON.parse(result.payload.subarray(result.messages[m * MESSAGE_FIELDS + MessageField.ValueStart], result.messages[m * MESSAGE_FIELDS + MessageField.ValueEnd]).toString()) as { meta: { dt: string }; test: string };
      assert.equal(value.test, `r${r}`);
      assert.equal(value.meta.dt, new Date(times[r]!).toISOString(), `meta.dt of request ${r}`);
      assert.equal(result.timestamps[m], times[r], `Kafka timestamp of request ${r}`);
    }
  });
});
