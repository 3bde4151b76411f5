import { availableParallelism } from 'node:os';
import path from 'node:path';
import Piscina from 'piscina';
import type { Config } from '../config/types';
import type { LocalHistogramChild } from '../local-metrics';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { RequestKinds } from '../outcomes';
import { TaskDelivery } from '../sinks/delivery';
import type { Sink } from '../sinks/types';
import type { StreamConfigSnapshot } from '../streams/broadcast';
import type { WorkerSettings } from '../../workers/validate';
import type { TaskRunner } from './coalescer';
import type { IntakeRequest } from './request';
import { sharedClockMs } from './shared-clock';
import { TaskBuffers } from './task-buffers';
import { encodeTask, taskContentBytes, TaskResult, type SchemaCacheStats } from './wire';

const WORKER_FILE = path.resolve(__dirname, '../../workers/validate.js');
const SCHEMA_CACHE_RESULTS = ['hit', 'negative', 'miss', 'error'] as const;

type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;

/**
 * Piscina's default hands a task to an idle worker first. This hands it to the busiest worker that
 * still has room: the coalescer keeps light load within one worker's slots, so that worker takes its
 * next task without going to sleep, and an idle worker is woken only for work that spilled over.
 */
export function busiestWithRoom(maxTasksPerWorker: number): LoadBalancer {
  return (_task, workers) => {
    let chosen: (typeof workers)[number] | null = null;
    let chosenUsage = -1;
    for (const worker of workers) {
      const usage = worker.currentUsage;
      if (usage < maxTasksPerWorker && usage > chosenUsage) {
        chosen = worker;
        chosenUsage = usage;
      }
    }
    return chosen;
  };
}

/** `auto`: one thread per core; the main thread mostly waits on I/O and uWS is cheap per byte. */
export function threadCount(setting: Config['pool']['threads']): number {
  return setting === 'auto' ? Math.max(1, availableParallelism()) : setting;
}

/**
 * Runs tasks on the piscina pool and hands each result to the sink. A task that fails (a worker
 * crashed, say) answers its requests 500; piscina replaces the worker.
 */
export class WorkerPool implements TaskRunner {
  readonly piscina: Piscina;
  private readonly deliveryTimeoutMs: number;
  private readonly headerCount: number;
  private readonly buffers: TaskBuffers;
  private readonly stages: Record<'batching' | 'toWorker' | 'worker' | 'toMain', LocalHistogramChild>;
  /** Unusable schemas already logged: every worker compiles on its own and retries after the negative cache. */
  private readonly loggedUnusable = new Set<string>();

  constructor(
    config: Config,
    streams: StreamConfigSnapshot | null,
    private readonly sink: Sink,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    const threads = threadCount(config.pool.threads);
    this.deliveryTimeoutMs = config.sink.kafka.delivery_timeout_ms;
    this.headerCount = Object.keys(config.defaults.headers_to_fields).length;
    // Idle, at most two full batches per task slot.
    this.buffers = new TaskBuffers(2 * threads * config.pool.max_tasks_per_thread * config.pool.max_batch_bytes);
    const stage = (name: string) => metrics.taskStages.labels(name);
    this.stages = { batching: stage('batching'), toWorker: stage('to_worker'), worker: stage('worker'), toMain: stage('to_main') };
    const workerData: WorkerSettings = { config, streams, cwd: process.cwd() };
    this.piscina = new Piscina({
      filename: WORKER_FILE,
      minThreads: threads,
      maxThreads: threads,
      // A worker is handed its next task while the current one runs (workers/validate.ts still runs
      // them one at a time), so it picks that task up without going to sleep, and the main thread
      // need not wake it: at 1 event/request that wake-up was most of a task's cost on two cores.
      concurrentTasksPerWorker: config.pool.max_tasks_per_thread,
      loadBalancer: busiestWithRoom(config.pool.max_tasks_per_thread),
      idleTimeout: Infinity,
      // Piscina's own timing histograms cost a few percent of the main thread; utilization is
      // sampled from the coalescer instead.
      recordTiming: false,
      // A worker over its heap limit dies alone: piscina replaces it and its task answers 500,
      // instead of one pathological body taking the whole process down.
      ...(config.pool.max_worker_heap_mb === null ? {} : { resourceLimits: { maxOldGenerationSizeMb: config.pool.max_worker_heap_mb } }),
      workerData,
    });
  }

  run(requests: IntakeRequest[], done: () => void, batchedMs: number): void {
    this.metrics.batchRequests.observe(requests.length);
    const sentAt = sharedClockMs();
    const task = encodeTask(requests, this.headerCount, this.buffers);
    const taskBytes = taskContentBytes(task); // read before the transfer detaches it
    this.piscina.run(task, { transferList: [task] }).then(
      (buffer: ArrayBuffer) => {
        const tookAt = sharedClockMs();
        done();
        const result = new TaskResult(buffer);
        this.buffers.observe(taskBytes, result.contentBytes);
        this.record(result);
        this.recordStages(batchedMs, sentAt, result, tookAt);
        new TaskDelivery(requests, result, this.metrics, this.deliveryTimeoutMs, this.buffers).start(this.sink);
      },
      (err: Error) => {
        done();
        this.log.error({ err, requests: requests.length, request_ids: requests.map((r) => r.requestId) }, 'worker task failed; answering its requests 500');
        for (const request of requests) {
          request.complete({ problem: RequestKinds.InternalError, detail: 'validation worker failed', success: 0, invalid: 0, error: 0, invalidItems: null, errorItems: null });
        }
      },
    );
  }

  private record(result: TaskResult): void {
    let events = 0;
    for (const count of result.side.counts) {
      events += count.valid + count.invalid + count.error;
      if (count.invalid > 0) this.metrics.events.inc({ stream: count.stream, outcome: 'invalid' }, count.invalid);
      if (count.error > 0) this.metrics.events.inc({ stream: count.stream, outcome: 'error' }, count.error);
      for (const [schema, byType] of Object.entries(count.kinds)) {
        for (const [errorType, n] of Object.entries(byType)) this.metrics.validationErrors.inc({ stream: count.stream, schema_uri: schema, error_type: errorType }, n);
      }
    }
    this.metrics.batchEvents.observe(events);
    if (result.side.droppedErrorEvents) this.metrics.errorEvents.inc({ result: 'dropped' }, result.side.droppedErrorEvents);
    if (result.side.schemaCache) this.recordSchemaCache(result.side.schemaCache);
  }

  /** Where a task's time went, for sluice_task_stage_seconds; the clock is shared with the workers. */
  private recordStages(batchedMs: number, sentAt: number, result: TaskResult, tookAt: number): void {
    const { batching, toWorker, worker, toMain } = this.stages;
    batching.observe(batchedMs / 1000);
    toWorker.observe(Math.max(0, result.workerStartedAt - sentAt) / 1000);
    worker.observe(Math.max(0, result.workerFinishedAt - result.workerStartedAt) / 1000);
    toMain.observe(Math.max(0, tookAt - result.workerFinishedAt) / 1000);
  }

  private recordSchemaCache(stats: SchemaCacheStats): void {
    for (const result of SCHEMA_CACHE_RESULTS) if (stats[result] > 0) this.metrics.schemaCache.inc({ result }, stats[result]);
    for (const seconds of stats.loadSeconds) this.metrics.schemaLoad.observe(seconds);
    for (const { key, message } of stats.unusable) {
      if (this.loggedUnusable.has(key)) continue;
      // Bounded by the repository's size: only schemas that exist can fail to compile.
      this.loggedUnusable.add(key);
      this.log.error({ kind: 'schema-unusable', schema: key, detail: message }, 'schema is unusable; its events are refused as invalid (SchemaInvalid)');
    }
  }

  async close(): Promise<void> {
    await this.piscina.close({ force: false });
  }
}
