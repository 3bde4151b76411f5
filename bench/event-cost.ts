// What one event costs a worker thread, in-process and on one thread: Sluice's whole worker pipeline on
// real tasks (parse, stream rules, augment, validate, serialize, pack the result), and beside it the
// floor any JSON gateway pays (JSON.parse of the body, Ajv validation, JSON.stringify of each event).
// The CPU-time figures bound what two cores can do, whatever the HTTP side achieves.
//
// Usage: node dist/bench/event-cost.js [trivial50|analytics50|trivial1]   prints CPU µs per event.

import * as path from 'node:path';
import { generateBodies, WORKLOADS, type WorkloadId } from './bodies';
import { encodeTask, Task, type TaskInput } from '../src/batching/wire';
import { loadConfig } from '../src/config/load';
import { SchemaRepository, repositoryOptions } from '../src/schemas/repository';
import { loadStreamConfig, streamConfigLocation } from '../src/streams/source';
import { StreamTable } from '../src/streams/stream-config';
import { Pipeline } from '../workers/pipeline';
import { ResultBuilder } from '../workers/result-builder';
import { SchemaCache } from '../workers/schema-cache';
import { Utf8Appender } from '../workers/utf8-appender';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Requests per task, as the coalescer packs them under load (pool.max_batch_requests is 64). */
const REQUESTS_PER_TASK = 16;
const ROUNDS = 5;

/** CPU µs (this process, user + system) per event of `body()`, best of ROUNDS after one warm-up round. */
async function cpuMicrosPerEvent(events: number, body: () => unknown): Promise<number> {
  await body();
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.cpuUsage();
    await body();
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / events);
  }
  return best;
}

async function main(): Promise<void> {
  const workloadId = (process.argv[2] ?? 'trivial50') as WorkloadId;
  const workload = WORKLOADS[workloadId];
  if (!workload || workload.gzip) {
    console.error(`usage: node dist/bench/event-cost.js [${Object.keys(WORKLOADS).filter((id) => !WORKLOADS[id as WorkloadId].gzip).join('|')}]`);
    process.exit(2);
  }
  process.chdir(REPO_ROOT);
  const config = loadConfig('bench/config/null.yaml', {});
  const bodies = generateBodies(workload);

  const repository = new SchemaRepository(repositoryOptions(config.schemas, REPO_ROOT, new Map()));
  const schemas = new SchemaCache(repository, false, 1000);
  const streamSource = streamConfigLocation(config.streams, 'config', REPO_ROOT)!;
  const streams = new StreamTable(await loadStreamConfig(streamSource), config.streams.topic_prefix, config.service_name);
  const pipeline = new Pipeline(config, streams, schemas);
  const tasks: ArrayBuffer[] = [];
  for (let i = 0; i + REQUESTS_PER_TASK <= bodies.length; i += REQUESTS_PER_TASK) {
    const requests: TaskInput[] = bodies.slice(i, i + REQUESTS_PER_TASK).map((body, r) => ({
      body,
      flags: 0,
      receivedAt: Date.now(),
      requestId: `bench-${i + r}`,
      clientIp: '127.0.0.1',
      headers: ['Mozilla/5.0 (bench)'],
    }));
    tasks.push(encodeTask(requests, 1));
  }
  const events = tasks.length * REQUESTS_PER_TASK * workload.eventsPerRequest;
  await pipeline.run(new Task(tasks[0]), new ResultBuilder(REQUESTS_PER_TASK)); // compiles the schemas

  // Reused from task to task, as a worker does. A worker writes its result over its task's buffer;
  // here the tasks are read again next round, so one result buffer stands in for it.
  const payload = new Utf8Appender();
  let resultBuffer: ArrayBuffer | null = null;
  const pipelineCost = await cpuMicrosPerEvent(events, async () => {
    for (const buffer of tasks) {
      const out = new ResultBuilder(REQUESTS_PER_TASK, payload);
      await pipeline.run(new Task(buffer), out);
      resultBuffer = out.build(schemas.takeStats(), resultBuffer);
    }
  });
  const texts = bodies.map((body) => body.toString('utf8'));
  const parsed = texts.map((text) => JSON.parse(text) as unknown);
  const parsedEvents = parsed.flatMap((body) => (Array.isArray(body) ? body : [body])) as Record<string, unknown>[];
  const schema = schemas.get(String(parsedEvents[0].$schema));
  if (!schema?.ok) throw new Error(`schema ${String(parsedEvents[0].$schema)} did not compile`);
  const decode = await cpuMicrosPerEvent(parsedEvents.length, () => bodies.forEach((body) => body.toString('utf8')));
  const parse = await cpuMicrosPerEvent(parsedEvents.length, () => texts.forEach((text) => JSON.parse(text)));
  const validate = await cpuMicrosPerEvent(parsedEvents.length, () => parsedEvents.forEach((event) => schema.validate(event)));
  const stringify = await cpuMicrosPerEvent(parsedEvents.length, () => parsedEvents.forEach((event) => JSON.stringify(event)));
  const figures = {
    workload: workload.name,
    events_measured: events,
    sluice_worker_pipeline_us: round(pipelineCost),
    floor_utf8_decode_us: round(decode),
    floor_json_parse_us: round(parse),
    floor_ajv_validate_us: round(validate),
    floor_json_stringify_us: round(stringify),
    floor_total_us: round(decode + parse + validate + stringify),
  };
  console.log(JSON.stringify(figures, null, 2));
  console.log(
    `two cores doing nothing but the floor: ${Math.round(2e6 / (decode + parse + validate + stringify)).toLocaleString('en-US')} events/s; ` +
      `doing nothing but Sluice's worker pipeline: ${Math.round(2e6 / pipelineCost).toLocaleString('en-US')} events/s (no HTTP, no load generator)`,
  );
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

void main();
