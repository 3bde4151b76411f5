/**
 * Recycles the ArrayBuffers that carry tasks to the workers and results back. A worker writes its
 * result into its task's buffer when it fits (wire.ts `encodeResult`), and the main thread reuses that
 * buffer for a later task once the sink is done with the result.
 *
 * Why: every new ArrayBuffer counts as external memory, and V8 sizes the main thread's GC limit from
 * its JS heap, which is only ~10 MB. With a fresh task and result buffer per task (~130 MB/s at
 * 50 events/request), the main thread ran a full mark-compact every ~80 ms.
 */

/** Results are usually a little larger than their tasks (augmented fields, per-message offsets). */
const RESULT_HEADROOM = 2;
const MIN_POOLED_BYTES = 16 * 1024;
/** Bigger buffers are allocated to size and left to the GC: rare, and not worth holding on to. */
const MAX_POOLED_BYTES = 8 * 1024 * 1024;

/** A buffer that can be transferred: never a slice of Node's shared pool. */
export function newTransferableBuffer(bytes: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

/** The pooled size for `bytes`: a power of two, so any free buffer of a size serves any later need of that size. */
export function pooledSize(bytes: number): number {
  return bytes > MAX_POOLED_BYTES ? bytes : Math.max(MIN_POOLED_BYTES, 2 ** Math.ceil(Math.log2(bytes)));
}

export class TaskBuffers {
  private readonly free = new Map<number, ArrayBuffer[]>();

  /** `maxFreePerSize`: buffers kept per size; about the tasks that can be in flight at once. */
  constructor(private readonly maxFreePerSize: number) {}

  /** A buffer for a task of `bytes`, with room for its result. */
  acquire(bytes: number): ArrayBuffer {
    const size = pooledSize(bytes * RESULT_HEADROOM);
    return this.free.get(size)?.pop() ?? newTransferableBuffer(size);
  }

  /** Takes back a buffer nothing reads any more. Detached (byteLength 0) and odd-sized ones are dropped. */
  release(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size === 0 || size > MAX_POOLED_BYTES || size !== pooledSize(size)) return;
    let free = this.free.get(size);
    if (free === undefined) this.free.set(size, (free = []));
    if (free.length < this.maxFreePerSize) free.push(buffer);
  }

  /** Buffers waiting to be reused (tests and metrics). */
  get freeCount(): number {
    let n = 0;
    for (const free of this.free.values()) n += free.length;
    return n;
  }
}
