import type { HttpResponse } from 'uWebSockets.js';
import type { BufferPool } from '../batching/buffer-pool';

/**
 * Smaller bodies are slices of Node's shared Buffer pool already; from this size up each would be
 * an ArrayBuffer of its own, so they are taken from (and given back to) a BufferPool instead.
 */
export const POOLED_BODY_BYTES = 4096;

/** Who a BodyReader reports to: the request the body belongs to. */
export interface BodyConsumer {
  /** Takes a chunk's bytes from the in-flight budget (unsized bodies only); false when they do not fit. */
  takeBytes(bytes: number): boolean;
  bodyReceived(body: Buffer): void;
  bodyTooLarge(): void;
  bodyOverBudget(): void;
}

/**
 * Reads a request body out of uWS, whose chunks are valid only during the callback, into one Buffer.
 * With a Content-Length the buffer is sized once (its bytes were taken from the in-flight budget
 * before reading); chunked bodies are collected, and each chunk is checked against the size limit and
 * taken from the budget as it arrives, so an oversize body or one over the budget is refused before it
 * is all in memory.
 */
export class BodyReader {
  private done = false;
  /** The pooled buffer behind a sized body, until `release`. */
  private pooled: ArrayBuffer | null = null;
  /** performance.now() after which the body is late (limits.body_timeout_s). */
  readonly deadline: number;

  constructor(
    private readonly res: HttpResponse,
    private readonly contentLength: number | null,
    private readonly maxBytes: number,
    bodyTimeoutMs: number,
    private readonly pool: BufferPool,
  ) {
    this.deadline = performance.now() + bodyTimeoutMs;
  }

  /** Reads the body; exactly one of `consumer`'s body* methods is called, unless `abort` comes first. */
  read(consumer: BodyConsumer): void {
    const sized = this.contentLength === null ? null : this.allocate(this.contentLength);
    const chunks: Buffer[] = [];
    let received = 0;
    this.res.onData((chunk, isLast) => {
      if (this.done) return;
      const bytes = new Uint8Array(chunk);
      if (received + bytes.length > (sized ? sized.length : this.maxBytes)) {
        this.done = true;
        return consumer.bodyTooLarge();
      }
      if (!sized && !consumer.takeBytes(bytes.length)) {
        this.done = true;
        return consumer.bodyOverBudget();
      }
      if (sized) sized.set(bytes, received);
      else chunks.push(Buffer.from(bytes));
      received += bytes.length;
      if (!isLast) return;
      this.done = true;
      consumer.bodyReceived(sized ? sized.subarray(0, received) : Buffer.concat(chunks, received));
    });
  }

  private allocate(bytes: number): Buffer {
    if (bytes < POOLED_BODY_BYTES) return Buffer.allocUnsafe(bytes);
    this.pooled = this.pool.acquire(bytes);
    return Buffer.from(this.pooled, 0, bytes);
  }

  /**
   * Gives a pooled body's memory back: only once nothing will read the body again (the request is
   * answered and every event of it settled).
   */
  release(): void {
    if (this.pooled === null) return;
    this.pool.release(this.pooled);
    this.pooled = null;
  }

  /** Stops reading; true when the body was still incomplete. */
  abort(): boolean {
    const wasReading = !this.done;
    this.done = true;
    return wasReading;
  }
}
