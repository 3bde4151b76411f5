/**
 * Request body bytes held in memory, against `limits.max_inflight_bytes` (DESIGN.md §2.3, overload).
 * Bytes are taken before a body is read (its Content-Length) or as it arrives (chunked), and given
 * back when the request is answered and settled, refused, timed out or aborted; so bodies still
 * arriving count, and many slow uploads cannot hold more than the limit between them.
 */
export class InflightBudget {
  private taken = 0;

  constructor(private readonly limit: number) {}

  /** Takes `bytes` if they fit under the limit; false, taking nothing, when they do not. */
  take(bytes: number): boolean {
    if (this.taken + bytes > this.limit) return false;
    this.taken += bytes;
    return true;
  }

  release(bytes: number): void {
    this.taken -= bytes;
  }

  /** Bytes taken and not yet released (the sluice_inflight_bytes gauge). */
  get held(): number {
    return this.taken;
  }
}
