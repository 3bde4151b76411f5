import { performance } from 'node:perf_hooks';
import type { IntakeRequest } from './request';
import { FLAG_DEFLATE, FLAG_GZIP } from './wire';

/**
 * How many bytes of JSON a compressed body is counted as when deciding to spill: its inflated size is
 * known only once a worker inflates it, and JSON events compress about 5 to 10 times (the bench's gzip
 * bodies: 12.5 KB to 2.5 KB). Counted as sent, a batch of 1 000 gzip events never looked big enough.
 */
const COMPRESSED_WORK_FACTOR = 8;

export interface CoalescerOptions {
  readonly maxBatchRequests: number;
  readonly maxBatchBytes: number;
  readonly maxBatchDelayUs: number;
  /** Tasks in flight at once; beyond it, the open batch keeps growing (up to the limits above). */
  readonly maxRunningTasks: number;
  /**
   * Tasks in flight for small, fresh batches: one worker's worth. Only a batch of at least
   * `spillToIdleBytes` (the first to spill) or `spillBytes` (the others), or one that has waited
   * `spillAfterMs`, takes one of the other task slots.
   */
  readonly primaryTasks: number;
  /** Compared with a batch's JSON bytes, compressed bodies counted as inflated. */
  readonly spillBytes: number;
  /**
   * The same, while nothing has spilled yet (the other workers are idle): a smaller batch is worth
   * waking an idle worker for than adding to a busy one, where it only makes batches smaller.
   */
  readonly spillToIdleBytes: number;
  readonly spillAfterMs: number;
}

export interface TaskRunner {
  /** Runs one task of these requests; calls `done` exactly once. `batchedMs`: how long its first request waited. */
  run(requests: IntakeRequest[], done: () => void, batchedMs: number): void;
}

interface Batch {
  readonly requests: IntakeRequest[];
  /** As received: what max_batch_bytes limits. */
  bytes: number;
  /** The JSON the worker will parse, compressed bodies counted as inflated: what the spill limits measure. */
  jsonBytes: number;
  /** performance.now() when its first request came. */
  readonly since: number;
}

/**
 * Coalesces request bodies into worker tasks. A batch is sealed when it reaches the request or byte
 * limit, or after the delay; a sub-millisecond delay means at the end of the event-loop turn, but not
 * sooner than the delay after the previous batch was sealed. While the task slots it may use are busy
 * the open batch keeps growing, so batches get bigger exactly when the pool is the bottleneck and
 * dispatch costs are paid per batch, never per event.
 *
 * The pacing is for steady traffic below the peak: requests spread evenly arrive one per turn, a task
 * per turn cost the two threads some 80 µs of CPU each on the bench's VM (waking the worker, and being
 * woken by its answer), and so a moderate load used more CPU per request than the peak did
 * (bench/RESULTS.md). A lone request after a quiet spell still goes at the end of its turn.
 *
 * Light load stays on one worker's slots (`primaryTasks`): that worker takes its next task without
 * going to sleep, and no other worker has to be woken, which on two cores cost the HTTP thread more
 * than the work it handed over (bench/RESULTS.md). Work that one worker cannot keep up with shows as a
 * big batch or one kept waiting, and those spill over to the other slots.
 */
export class Coalescer {
  private open: Batch | null = null;
  private readonly sealed: Batch[] = [];
  private running = 0;
  private timerArmed = false;
  private spillTimer: NodeJS.Timeout | null = null;
  private paceTimer: NodeJS.Timeout | null = null;
  /** performance.now() when the last batch was sealed. */
  private lastSealAt = -Infinity;
  private readonly onDeadline = (): void => {
    this.timerArmed = false;
    this.sealIfStartable();
  };
  private readonly onPaceDue = (): void => {
    this.paceTimer = null;
    this.sealIfStartable();
  };
  private readonly onSpillDue = (): void => {
    this.spillTimer = null;
    this.startWaiting();
  };
  private readonly onTaskDone = (): void => {
    this.running--;
    this.startWaiting();
  };

  constructor(
    private readonly options: CoalescerOptions,
    private readonly runner: TaskRunner,
  ) {}

  submit(request: IntakeRequest): void {
    const batch = (this.open ??= { requests: [], bytes: 0, jsonBytes: 0, since: performance.now() });
    batch.requests.push(request);
    batch.bytes += request.body.length;
    batch.jsonBytes += request.flags & (FLAG_GZIP | FLAG_DEFLATE) ? request.body.length * COMPRESSED_WORK_FACTOR : request.body.length;
    const { maxBatchRequests, maxBatchBytes, maxBatchDelayUs, primaryTasks, maxRunningTasks } = this.options;
    if (batch.requests.length >= maxBatchRequests || batch.bytes >= maxBatchBytes || maxBatchDelayUs === 0) {
      this.seal();
    } else if (batch.jsonBytes >= this.spillThreshold() && this.running >= primaryTasks && this.running < maxRunningTasks && this.sealed.length === 0) {
      // Big, and a spare slot is free: no reason to wait for the turn's end. (An overdue batch needs no
      // check per request: its spill timer is armed.)
      this.seal();
    } else if (!this.timerArmed) {
      this.timerArmed = true;
      if (maxBatchDelayUs < 1000) setImmediate(this.onDeadline);
      else setTimeout(this.onDeadline, Math.round(maxBatchDelayUs / 1000));
    }
  }

  /** Requests accepted and not yet handed to a worker. */
  get queuedRequests(): number {
    let n = this.open?.requests.length ?? 0;
    for (const batch of this.sealed) n += batch.requests.length;
    return n;
  }

  get runningTasks(): number {
    return this.running;
  }

  private canStart(batch: Batch): boolean {
    const { primaryTasks, maxRunningTasks, spillAfterMs } = this.options;
    if (this.running < primaryTasks) return true;
    return this.running < maxRunningTasks && (batch.jsonBytes >= this.spillThreshold() || performance.now() - batch.since >= spillAfterMs);
  }

  /** Tasks fill the primary worker first (pool.ts), so exactly primaryTasks running means the others idle. */
  private spillThreshold(): number {
    return this.running === this.options.primaryTasks ? this.options.spillToIdleBytes : this.options.spillBytes;
  }

  /** A slot freed or a spill fell due: start the sealed batches that may, then the open one. */
  private startWaiting(): void {
    this.pump();
    this.sealIfStartable();
  }

  /** The open batch goes now if nothing sealed is ahead of it, it may start, and the pace allows. */
  private sealIfStartable(): void {
    if (this.open !== null && this.sealed.length === 0 && this.canStart(this.open) && this.paced()) this.seal();
    else this.armSpill();
  }

  /** True once the delay has passed since the last seal; else a timer checks again then. */
  private paced(): boolean {
    const waitMs = this.lastSealAt + this.options.maxBatchDelayUs / 1000 - performance.now();
    if (waitMs <= 0) return true;
    // Requests still arriving check again at their turn's end; this is for when none do.
    this.paceTimer ??= setTimeout(this.onPaceDue, Math.ceil(waitMs));
    return false;
  }

  private seal(): void {
    if (this.open === null) return;
    this.sealed.push(this.open);
    this.open = null;
    this.lastSealAt = performance.now();
    this.pump();
  }

  private pump(): void {
    while (this.sealed.length > 0 && this.canStart(this.sealed[0]!)) {
      const batch = this.sealed.shift()!;
      this.running++;
      this.runner.run(batch.requests, this.onTaskDone, performance.now() - batch.since);
    }
    this.armSpill();
  }

  /** A batch kept waiting while a spare slot is free gets one once it has waited `spillAfterMs`. */
  private armSpill(): void {
    const { primaryTasks, maxRunningTasks, spillAfterMs } = this.options;
    if (this.spillTimer !== null || this.running < primaryTasks || this.running >= maxRunningTasks) return;
    const waiting = this.sealed[0] ?? this.open;
    if (waiting === null) return;
    const dueInMs = waiting.since + spillAfterMs - performance.now();
    this.spillTimer = setTimeout(this.onSpillDue, Math.max(1, Math.ceil(dueInMs)));
  }
}
