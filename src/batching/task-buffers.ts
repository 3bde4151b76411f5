import { BufferPool, PoolSizes } from './buffer-pool';

/**
 * A result is usually larger than its task (augmented fields, error events, per-message offsets):
 * 1.04–2.0× for the bench workloads. The room given is the recent ratio plus this margin, not a
 * fixed generous one, because a buffer stays held while the sink delivers its result.
 */
const RESULT_MARGIN = 1.1;
const INITIAL_RESULT_RATIO = 2;
/** Weight of the newest task in the running result/task ratio. */
const RATIO_WEIGHT = 0.2;
/** Tasks and results of up to 8 MiB are pooled; bigger ones are rare and not worth holding on to. */
export const TASK_BUFFER_SIZES = new PoolSizes(16 * 1024, 8 * 1024 * 1024);

/**
 * The buffers that carry tasks to the workers and results back. A worker writes its result into its
 * task's buffer when it fits (wire.ts `encodeResult`), and the main thread reuses that buffer for a
 * later task once the sink is done with the result, so steady traffic allocates none.
 */
export class TaskBuffers {
  private readonly pool: BufferPool;
  private resultRatio = INITIAL_RESULT_RATIO;

  constructor(maxFreeBytes: number) {
    this.pool = new BufferPool(TASK_BUFFER_SIZES, maxFreeBytes);
  }

  /** A buffer for a task of `bytes`, with room for its result. */
  acquire(bytes: number): ArrayBuffer {
    return this.pool.acquire(Math.ceil(bytes * this.resultRatio * RESULT_MARGIN));
  }

  /** Learns how much larger results are than their tasks, for the room `acquire` gives. */
  observe(taskBytes: number, resultBytes: number): void {
    this.resultRatio += RATIO_WEIGHT * (Math.max(1, resultBytes / taskBytes) - this.resultRatio);
  }

  /** Takes back a result buffer the sink is done with (or one that came back detached: ignored). */
  release(buffer: ArrayBuffer): void {
    this.pool.release(buffer);
  }

  get freeCount(): number {
    return this.pool.freeCount;
  }
}
