/**
 * The piscina worker: parse, check, augment, validate and serialize the events of one task
 * (many requests), and hand back the packed result of src/batching/wire.ts.
 */
import Piscina from 'piscina';
import { resultTransferables, type Task, type TaskResult } from '../src/batching/wire';
import type { Config } from '../src/config/types';
import { SchemaRepository } from '../src/schemas/repository';
import { StreamTable, type StreamConfigDocument } from '../src/streams/stream-config';
import { Pipeline } from './pipeline';
import { ResultBuilder } from './result-builder';
import { SchemaCache } from './schema-cache';

export interface WorkerSettings {
  readonly config: Config;
  readonly streams: StreamConfigDocument | null;
  readonly cwd: string;
}

/** Negative-cache entries live at least this long so one task sees a stable answer. */
const MIN_NEGATIVE_CACHE_MS = 1000;

function createPipeline(settings: WorkerSettings): { pipeline: Pipeline; schemas: SchemaCache } {
  const { config, cwd } = settings;
  const repository = new SchemaRepository({
    baseUris: config.schemas.base_uris,
    allowAbsoluteUris: config.schemas.allow_absolute_uris,
    fileExtension: config.schemas.file_extension,
    negativeCacheSeconds: config.schemas.negative_cache_seconds,
    cwd,
  });
  const schemas = new SchemaCache(repository, config.schemas.allow_insecure, Math.max(MIN_NEGATIVE_CACHE_MS, config.schemas.negative_cache_seconds * 1000));
  const streams = settings.streams === null ? null : new StreamTable(settings.streams, config.streams.topic_prefix, config.service_name);
  return { pipeline: new Pipeline(config, streams, schemas), schemas };
}

const { pipeline, schemas } = createPipeline(Piscina.workerData as WorkerSettings);
const warmUp = schemas.prepare((Piscina.workerData as WorkerSettings).config.schemas.precache);

export default async function validateTask(task: Task): Promise<unknown> {
  await warmUp;
  const out = new ResultBuilder(task.flags.length);
  await pipeline.run(task, out);
  return movable(out.build());
}

/** Wraps the result so piscina transfers its buffers instead of cloning them. */
function movable(result: TaskResult): unknown {
  const transferable = {
    get [Piscina.transferableSymbol]() {
      return resultTransferables(result);
    },
    get [Piscina.valueSymbol]() {
      return result;
    },
  };
  return Piscina.move(transferable as unknown as Parameters<typeof Piscina.move>[0]);
}
