import type { HttpResponse } from 'uWebSockets.js';

/**
 * Reads a request body out of uWS, whose chunks are valid only during the callback, into one Buffer.
 * With a Content-Length the buffer is sized once (its bytes were taken from the in-flight budget
 * before reading); chunked bodies are collected, and each chunk is checked against the size limit and
 * taken from the budget as it arrives, so an oversize body or one over the budget is refused before it
 * is all in memory.
 */
export class BodyReader {
  private done = false;
  /** performance.now() after which the body is late (limits.body_timeout_s). */
  readonly deadline: number;

  constructor(
    private readonly res: HttpResponse,
    private readonly contentLength: number | null,
    private readonly maxBytes: number,
    bodyTimeoutMs: number,
    /** Takes a chunk's bytes from the in-flight budget (unsized bodies only); false when they do not fit. */
    private readonly takeBytes: (bytes: number) => boolean,
  ) {
    this.deadline = performance.now() + bodyTimeoutMs;
  }

  read(onBody: (body: Buffer) => void, onTooLarge: () => void, onOverBudget: () => void): void {
    const sized = this.contentLength !== null ? Buffer.allocUnsafe(this.contentLength) : null;
    const chunks: Buffer[] = [];
    let received = 0;
    this.res.onData((chunk, isLast) => {
      if (this.done) return;
      const bytes = new Uint8Array(chunk);
      if (received + bytes.length > (sized ? sized.length : this.maxBytes)) {
        this.done = true;
        return onTooLarge();
      }
      if (!sized && !this.takeBytes(bytes.length)) {
        this.done = true;
        return onOverBudget();
      }
      if (sized) sized.set(bytes, received);
      else chunks.push(Buffer.from(bytes));
      received += bytes.length;
      if (!isLast) return;
      this.done = true;
      onBody(sized ? sized.subarray(0, received) : Buffer.concat(chunks, received));
    });
  }

  /** Stops reading; true when the body was still incomplete. */
  abort(): boolean {
    const wasReading = !this.done;
    this.done = true;
    return wasReading;
  }
}
