import type { RequestKind } from '../outcomes';

/** One intake request as the batching layer sees it: bytes in, one outcome out. No HTTP here. */
export interface IntakeRequest {
  /** The body as received (copied out of uWS's transient buffers). */
  readonly body: Buffer;
  /** FLAG_* bits of wire.ts. */
  readonly flags: number;
  readonly receivedAt: number;
  readonly requestId: string;
  readonly clientIp: string;
  /** Values of the configured headers_to_fields headers, in config order ('' when absent). */
  readonly headers: readonly string[];
  /** Called exactly once, when every event of the request has its final outcome. */
  complete(outcome: RequestOutcome): void;
}

export interface RequestOutcome {
  /** Set when the request as a whole was refused (malformed body, …); counts are then zero. */
  readonly problem: RequestKind | null;
  readonly detail: string | null;
  readonly success: number;
  readonly invalid: number;
  readonly error: number;
  /** Comma-joined JSON EventStatus items, in input order within each group; null when none. */
  readonly invalidItems: string | null;
  readonly errorItems: string | null;
}
