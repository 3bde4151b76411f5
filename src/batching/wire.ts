/**
 * The wire format between the main thread and the validation workers. Both directions move a few
 * large buffers (transferred, never copied) plus small per-request arrays; nothing is one object per
 * event, so a task of 64 requests × 50 events costs the same structured clone as a task of 64 events.
 *
 * Task (main → worker), n requests:
 *   bodies      ArrayBuffer   request bodies back to back                          (transferred)
 *   bounds      Int32Array    [start₀, end₀, start₁, end₁, …] byte offsets, 2n    (transferred)
 *   flags       Uint8Array    per request: FLAG_* bits                              (transferred)
 *   receivedAt  Float64Array  per request: receive time, ms since epoch            (transferred)
 *   requestIds  string[n]     X-Request-ID of each request
 *   clientIps   string[n]     the client address each request is attributed to
 *   headers     string[n·H]   for each request, the H configured header values ('' when absent)
 *
 * Result (worker → main), m messages for the sink:
 *   payload     ArrayBuffer   UTF-8 message values and keys back to back            (transferred)
 *   messages    Int32Array    MESSAGE_FIELDS ints per message (layout below)        (transferred)
 *   timestamps  Float64Array  per message: Kafka timestamp, ms                      (transferred)
 *   names       string[]      topic names and stream labels, referenced by index from `messages`
 *   requests    Int32Array    REQUEST_FIELDS ints per request (layout below)        (transferred)
 *   details     (string|null)[2n]  per request: [problem detail or invalid items, error items]
 *   counts      StreamCount[] validation outcomes per stream label (metrics)
 *   schemaCache SchemaCacheStats  the worker's schema lookups since its previous task (metrics)
 */

export const FLAG_HASTY = 1;
export const FLAG_GZIP = 2;
export const FLAG_DEFLATE = 4;

export interface Task {
  bodies: ArrayBuffer;
  bounds: Int32Array;
  flags: Uint8Array;
  receivedAt: Float64Array;
  requestIds: string[];
  clientIps: string[];
  headers: string[];
}

/**
 * Per message: [request, topic, valueStart, valueEnd, keyStart, keyEnd, kind, stream, position];
 * keyStart = -1 when unkeyed; topic and stream are indexes into `names` (stream is the bounded metric
 * label); position is the event's index within its request body.
 */
export const MESSAGE_FIELDS = 9;
export const enum MessageField {
  Request = 0,
  Topic = 1,
  ValueStart = 2,
  ValueEnd = 3,
  KeyStart = 4,
  KeyEnd = 5,
  Kind = 6,
  Stream = 7,
  Position = 8,
}
export const MESSAGE_EVENT = 0;
/** An error event (§6): produced best-effort, never holds up the response. */
export const MESSAGE_ERROR_EVENT = 1;

/**
 * Per request: [problem, valid, invalid, error].
 * problem = 0 when the body was usable, else 1 + index into REQUEST_PROBLEMS; details[2i] then holds
 * the problem's detail sentence. Otherwise details[2i] and details[2i+1] hold the comma-joined JSON
 * EventStatus items of the invalid and error groups (null when empty).
 */
export const REQUEST_FIELDS = 4;
export const enum RequestField {
  Problem = 0,
  Valid = 1,
  Invalid = 2,
  Error = 3,
}
export const REQUEST_PROBLEMS = ['MalformedBody', 'EmptyBody', 'PayloadTooLarge', 'UnsupportedEncoding'] as const;
export type RequestProblem = (typeof REQUEST_PROBLEMS)[number];

export interface StreamCount {
  stream: string;
  valid: number;
  invalid: number;
  error: number;
  /** error_type → count, for invalid and error outcomes. */
  kinds: Record<string, number>;
}

/** Schema lookups by result (metric `sluice_schema_cache_total`) and the seconds each load took. */
export interface SchemaCacheStats {
  hit: number;
  negative: number;
  miss: number;
  error: number;
  loadSeconds: number[];
}

export interface TaskResult {
  payload: ArrayBuffer;
  messages: Int32Array;
  timestamps: Float64Array;
  names: string[];
  requests: Int32Array;
  details: (string | null)[];
  counts: StreamCount[];
  /** Set by the worker entry (workers/validate.ts), not by the result builder. */
  schemaCache?: SchemaCacheStats;
}

/** The buffers of a task, for Piscina.move(). */
export function taskTransferables(task: Task): ArrayBuffer[] {
  return [task.bodies, task.bounds.buffer as ArrayBuffer, task.flags.buffer as ArrayBuffer, task.receivedAt.buffer as ArrayBuffer];
}

export function resultTransferables(result: TaskResult): ArrayBuffer[] {
  return [result.payload, result.messages.buffer as ArrayBuffer, result.timestamps.buffer as ArrayBuffer, result.requests.buffer as ArrayBuffer];
}
