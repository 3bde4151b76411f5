/**
 * Free ArrayBuffers by size, so that the hot path reuses memory instead of allocating it.
 *
 * Why: every new ArrayBuffer counts as external memory, and V8 sizes the main thread's GC limit from
 * its JS heap, which is only ~10 MB. At 50 events/request a fresh buffer per task, per result and per
 * request body (~190 MB/s) made the main thread run a full mark-compact every ~80 ms.
 */

/** Sizes grow by 2^(1/4) (~19 %), so rounding a need up to a pooled size wastes at most ~25 %. */
const SIZES_PER_DOUBLING = 4;
const SIZE_GRAIN = 1024;

/** A buffer that can be transferred to a worker: never a slice of Node's shared pool. */
export function newTransferableBuffer(bytes: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

/** The sizes a pool hands out: `minBytes`, then ~19 % steps up to `maxBytes`; larger needs are their own size. */
export class PoolSizes {
  private readonly sizes: number[] = [];

  constructor(
    minBytes: number,
    readonly maxBytes: number,
  ) {
    for (let step = 0; this.sizes.length === 0 || this.sizes[this.sizes.length - 1]! < maxBytes; step++) {
      this.sizes.push(Math.ceil((minBytes * 2 ** (step / SIZES_PER_DOUBLING)) / SIZE_GRAIN) * SIZE_GRAIN);
    }
  }

  /** The pooled size that holds `bytes`, or `bytes` itself beyond the largest. */
  sizeFor(bytes: number): number {
    if (bytes > this.maxBytes) return bytes;
    let i = 0;
    while (this.sizes[i]! < bytes) i++;
    return this.sizes[i]!;
  }

  /** True for a size this series hands out (a buffer of any other size did not come from a pool of it). */
  isPooled(bytes: number): boolean {
    return bytes <= this.maxBytes && this.sizeFor(bytes) === bytes;
  }
}

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private freeBytes = 0;

  /** `maxFreeBytes`: what the pool may hold while idle. */
  constructor(
    readonly sizes: PoolSizes,
    private readonly maxFreeBytes: number,
  ) {}

  /** A buffer of at least `bytes`: a free one when there is one. */
  acquire(bytes: number): ArrayBuffer {
    const size = this.sizes.sizeFor(bytes);
    const buffer = this.free.get(size)?.pop();
    if (buffer === undefined) return newTransferableBuffer(size);
    this.freeBytes -= size;
    return buffer;
  }

  /**
   * Takes back a buffer that nothing reads or writes any more. Detached (transferred away) buffers,
   * sizes the pool does not use, and buffers beyond `maxFreeBytes` are left to the GC.
   */
  release(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size === 0 || !this.sizes.isPooled(size) || this.freeBytes + size > this.maxFreeBytes) return;
    let free = this.free.get(size);
    if (free === undefined) this.free.set(size, (free = []));
    free.push(buffer);
    this.freeBytes += size;
  }

  /** Buffers waiting to be reused. */
  get freeCount(): number {
    let n = 0;
    for (const free of this.free.values()) n += free.length;
    return n;
  }
}
