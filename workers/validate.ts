/**
 * The piscina worker: parse, check, augment, validate and serialize the events of one task
 * (many requests), and hand back the packed result of src/batching/wire.ts.
 */
import Piscina from 'piscina';
import { sharedClockMs } from '../src/batching/shared-clock';
import { Task } from '../src/batching/wire';
import type { Config } from '../src/config/types';
import { isHttpUri } from '../src/documents/http-get';
import { SchemaRepository, repositoryOptions } from '../src/schemas/repository';
import { SchemaSourceRelay } from '../src/schemas/source-relay';
import { StreamConfigFollower, type StreamConfigSnapshot } from '../src/streams/broadcast';
import { StreamTable } from '../src/streams/stream-config';
import { Pipeline } from './pipeline';
import { lowerThreadPriority } from './priority';
import { ResultBuilder } from './result-builder';
import { SchemaCache } from './schema-cache';
import { Utf8Appender } from './utf8-appender';

export interface WorkerSettings {
  readonly config: Config;
  readonly streams: StreamConfigSnapshot | null;
  readonly cwd: string;
}

/** Negative-cache entries live at least this long so one task sees a stable answer. */
const MIN_NEGATIVE_CACHE_MS = 1000;

/** Beyond the main thread's own http_timeout_ms: only a lost answer waits this long. */
const RELAY_GUARD_MARGIN_MS = 1000;

function createPipeline(settings: WorkerSettings): { pipeline: Pipeline; schemas: SchemaCache; streamConfig: StreamConfigFollower | null } {
  const { config, cwd } = settings;
  const httpBases = config.schemas.base_uris.filter(isHttpUri);
  const relay = new SchemaSourceRelay(config.schemas.http_timeout_ms + RELAY_GUARD_MARGIN_MS);
  const repository = new SchemaRepository(repositoryOptions(config.schemas, cwd, relay.sources(httpBases)));
  const schemas = new SchemaCache(repository, config.schemas.allow_insecure, Math.max(MIN_NEGATIVE_CACHE_MS, config.schemas.negative_cache_seconds * 1000));
  if (settings.streams === null) return { pipeline: new Pipeline(config, null, schemas), schemas, streamConfig: null };
  const streams = new StreamTable(settings.streams.document, config.streams.topic_prefix, config.service_name);
  return { pipeline: new Pipeline(config, streams, schemas), schemas, streamConfig: new StreamConfigFollower(streams, settings.streams) };
}

const settings = Piscina.workerData as WorkerSettings;
lowerThreadPriority(settings.config.pool.worker_nice);
const { pipeline, schemas, streamConfig } = createPipeline(settings);
const warmUp = schemas.prepare(settings.config.schemas.precache);
/** Message texts of the running task; one buffer for all tasks, since they run one at a time. */
const payload = new Utf8Appender();

/**
 * The task this worker runs last. Piscina may hand over the next task while one runs (see
 * src/batching/pool.ts); they still run one after the other, because the pipeline keeps per-task state
 * across an await (a schema fetched over HTTP).
 */
let lastTask: Promise<unknown> = Promise.resolve();

export default function validateTask(buffer: ArrayBuffer): Promise<unknown> {
  const result = lastTask.then(() => runTask(buffer));
  lastTask = result.catch(() => undefined); // its failure is the caller's; the next task still runs
  return result;
}

async function runTask(buffer: ArrayBuffer): Promise<unknown> {
  const startedAt = sharedClockMs();
  await warmUp;
  if (streamConfig?.stale) await streamConfig.catchUp();
  const task = new Task(buffer);
  const out = new ResultBuilder(task.count, payload, startedAt);
  await pipeline.run(task, out);
  // The task is fully read by now, so its buffer can carry the result back. Transferred, not cloned:
  // see src/batching/wire.ts.
  return Piscina.move(out.build(schemas.takeStats(), buffer));
}
