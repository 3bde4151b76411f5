import type { IntakeRequest } from './request';

export interface CoalescerOptions {
  readonly maxBatchRequests: number;
  readonly maxBatchBytes: number;
  readonly maxBatchDelayUs: number;
  /** Tasks in flight at once; beyond it, the open batch keeps growing (up to the limits above). */
  readonly maxRunningTasks: number;
}

export interface TaskRunner {
  /** Runs one task of these requests; calls `done` exactly once. */
  run(requests: IntakeRequest[], done: () => void): void;
}

/**
 * Coalesces request bodies into worker tasks. A batch is sealed when it reaches the request or byte
 * limit, or at the end of the current event-loop turn (sub-millisecond delays) or after the delay;
 * while every task slot is busy the open batch keeps growing, so batches get bigger exactly when
 * the pool is the bottleneck and dispatch costs are paid per batch, never per event.
 */
export class Coalescer {
  private open: IntakeRequest[] = [];
  private openBytes = 0;
  private readonly sealed: IntakeRequest[][] = [];
  private running = 0;
  private timerArmed = false;
  private readonly onDeadline = (): void => {
    this.timerArmed = false;
    if (this.running < this.options.maxRunningTasks) this.seal();
  };
  private readonly onTaskDone = (): void => {
    this.running--;
    if (this.sealed.length === 0 && this.open.length > 0) this.seal();
    else this.pump();
  };

  constructor(
    private readonly options: CoalescerOptions,
    private readonly runner: TaskRunner,
  ) {}

  submit(request: IntakeRequest): void {
    this.open.push(request);
    this.openBytes += request.body.length;
    if (this.open.length >= this.options.maxBatchRequests || this.openBytes >= this.options.maxBatchBytes || this.options.maxBatchDelayUs === 0) {
      this.seal();
    } else if (!this.timerArmed) {
      this.timerArmed = true;
      if (this.options.maxBatchDelayUs < 1000) setImmediate(this.onDeadline);
      else setTimeout(this.onDeadline, Math.round(this.options.maxBatchDelayUs / 1000));
    }
  }

  /** Requests accepted and not yet handed to a worker. */
  get queuedRequests(): number {
    let n = this.open.length;
    for (const batch of this.sealed) n += batch.length;
    return n;
  }

  get runningTasks(): number {
    return this.running;
  }

  private seal(): void {
    if (this.open.length === 0) return;
    this.sealed.push(this.open);
    this.open = [];
    this.openBytes = 0;
    this.pump();
  }

  private pump(): void {
    while (this.running < this.options.maxRunningTasks && this.sealed.length > 0) {
      const requests = this.sealed.shift()!;
      this.running++;
      this.runner.run(requests, this.onTaskDone);
    }
  }
}
