/**
 * The one interface every sink implements. A sink receives whole batches (one per worker task) and
 * reports each message's fate through `settle`, so delivery reports are matched to their request by
 * index: no closure or promise per message.
 */
export interface MessageBatch {
  readonly size: number;
  topic(i: number): string;
  value(i: number): Buffer;
  /**
   * Every value and key as a byte range of `payload`, for a sink that hands over a run of messages in
   * one call: message i's value is payload[spans[i * spanStride]] up to spans[i * spanStride + 1], its
   * key the next two (no key when that start is negative).
   */
  readonly payload: Buffer;
  readonly spans: Int32Array;
  readonly spanStride: number;
  /** Message i's timestamp (ms since the epoch) is timestamps[i]. */
  readonly timestamps: Float64Array;
  /** Hasty messages may take a higher-latency, higher-throughput path. */
  hasty(i: number): boolean;
  /** Exactly once per message: null when persisted, else why not. Later calls are ignored. */
  settle(i: number, failure: SinkFailure | null): void;
  /** Whether the message already has its outcome (e.g. its request timed out while it waited). */
  isSettled(i: number): boolean;
}

/**
 * Why a sink did not persist a message. `reason` labels sluice_sink_errors_total, so it comes from a
 * bounded set (the sink's own words, librdkafka's error names, errno codes); `message` is the detail
 * answered in the event's error row.
 */
export interface SinkFailure {
  readonly reason: string;
  readonly message: string;
}

export interface SinkUnavailable {
  readonly reason: string;
  /** Up but full (librdkafka's queue): new requests are refused as overloaded, not as not ready. */
  readonly full: boolean;
}

export interface Sink {
  readonly type: 'file' | 'kafka' | 'null';
  send(batch: MessageBatch): void;
  /** null while the sink can take messages; otherwise why not, for /readyz and fast 503s. */
  unavailable(): SinkUnavailable | null;
  /** Flushes what was accepted (bounded by timeoutMs) and releases resources. */
  close(timeoutMs: number): Promise<void>;
}
