/**
 * The wire format between the main thread and the validation workers: one ArrayBuffer each way,
 * transferred, never cloned. Structured clone is what makes worker hand-offs expensive (measured:
 * 97 µs per postMessage for a 37-request task with its strings in arrays and four typed arrays,
 * 2 µs for the same data in one transferred buffer), so nothing crosses as an object or a string.
 * All numbers are little-endian typed-array views; sections are 8-byte aligned.
 *
 * Buffers are recycled (task-buffers.ts): a worker writes its result into the task's own buffer when
 * it fits, so a buffer is usually larger than what it carries; readers go by the counts inside.
 *
 * Task (main → worker), n requests, H configured header values each:
 *   Int32    [n, H, stringBytes, bodyBytes, start₀, end₀, start₁, end₁, …]   body offsets
 *   Float64  receivedAt[n]                ms since epoch
 *   Uint8    flags[n]                     FLAG_* bits
 *   Uint8    strings                      UTF-8, NUL-separated: per request its X-Request-ID,
 *                                         client address and H header values
 *   Uint8    bodies                       request bodies back to back
 *
 * Result (worker → main), m messages for the sink:
 *   Int32    [m, n, payloadBytes, sideBytes]
 *   Float64  [startedAt, finishedAt]      the worker's run of the task, shared-clock.ts ms
 *   Int32    messages[m · MESSAGE_FIELDS] (layout below)
 *   Int32    requests[n · REQUEST_FIELDS] (layout below)
 *   Float64  timestamps[m]                Kafka timestamp, ms
 *   Uint8    payload                      UTF-8 message values and keys back to back
 *   Uint8    side                         UTF-8 JSON ResultSide: names, sparse details, counts,
 *                                         the worker's schema-cache counts since its last task
 */

import { newTransferableBuffer } from './buffer-pool';
import { sharedClockMs } from './shared-clock';
import { TASK_BUFFER_SIZES, type TaskBuffers } from './task-buffers';

export const FLAG_HASTY = 1;
export const FLAG_GZIP = 2;
export const FLAG_DEFLATE = 4;

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
  /** schema label → error_type → count, for invalid and error outcomes (metric labels, so bounded). */
  kinds: Record<string, Record<string, number>>;
}

/** Schema lookups by result (metric `sluice_schema_cache_total`) and the seconds each load took. */
export interface SchemaCacheStats {
  hit: number;
  negative: number;
  miss: number;
  error: number;
  loadSeconds: number[];
  /** Schemas in the repository that cannot be used (do not parse or compile, fail the secure-schema check): logged once. */
  unusable: UnusableSchema[];
}

export interface UnusableSchema {
  key: string;
  message: string;
}

/** What does not fit in fixed-size numbers: decoded once per task in the main thread. */
export interface ResultSide {
  /** Topic names and stream labels, referenced by index from the messages. */
  names: string[];
  /**
   * Sparse, keyed by 2·request (+1): the problem detail or the comma-joined invalid EventStatus
   * items at 2r, the error items at 2r + 1.
   */
  details: Record<number, string>;
  counts: StreamCount[];
  schemaCache?: SchemaCacheStats;
  /** Error events never made: the error schema could not be loaded or used, or the error event failed it. */
  droppedErrorEvents?: number;
}

/** What the main thread knows of each request it puts in a task. */
export interface TaskInput {
  readonly body: Uint8Array;
  readonly flags: number;
  readonly receivedAt: number;
  readonly requestId: string;
  readonly clientIp: string;
  readonly headers: readonly string[];
}

const TASK_INTS = 4;
const RESULT_INTS = 4;
const SEPARATOR = '\0';

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** A NUL would shift every later field: header values cannot carry one legitimately anyway. */
function clean(value: string): string {
  return value.includes(SEPARATOR) ? value.replaceAll(SEPARATOR, '') : value;
}

/** Byte offsets of a task's sections, from its request and header counts. */
function taskLayout(n: number, stringBytes: number) {
  const receivedAtAt = align8((TASK_INTS + 2 * n) * 4);
  const flagsAt = receivedAtAt + n * 8;
  const stringsAt = flagsAt + n;
  return { receivedAtAt, flagsAt, stringsAt, bodiesAt: stringsAt + stringBytes };
}

/** `buffers`: where the task's buffer comes from; without it, a new one of exactly the task's size. */
export function encodeTask(requests: readonly TaskInput[], headerCount: number, buffers?: TaskBuffers): ArrayBuffer {
  const n = requests.length;
  const parts: string[] = [];
  let bodyBytes = 0;
  for (const r of requests) {
    parts.push(clean(r.requestId), clean(r.clientIp));
    for (let h = 0; h < headerCount; h++) parts.push(clean(r.headers[h] ?? ''));
    bodyBytes += r.body.length;
  }
  const strings = parts.join(SEPARATOR);
  const stringBytes = Buffer.byteLength(strings);
  const layout = taskLayout(n, stringBytes);
  const taskBytes = layout.bodiesAt + bodyBytes;
  const buffer = buffers ? buffers.acquire(taskBytes) : newTransferableBuffer(taskBytes);
  const bytes = Buffer.from(buffer);
  const ints = new Int32Array(buffer, 0, TASK_INTS + 2 * n);
  const receivedAt = new Float64Array(buffer, layout.receivedAtAt, n);
  ints[0] = n;
  ints[1] = headerCount;
  ints[2] = stringBytes;
  ints[3] = bodyBytes;
  bytes.write(strings, layout.stringsAt);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const r = requests[i]!;
    receivedAt[i] = r.receivedAt;
    bytes[layout.flagsAt + i] = r.flags;
    bytes.set(r.body, layout.bodiesAt + offset);
    ints[TASK_INTS + 2 * i] = offset;
    offset += r.body.length;
    ints[TASK_INTS + 2 * i + 1] = offset;
  }
  return buffer;
}

/** Bytes a task buffer's contents take (the buffer may be larger: it is recycled). */
export function taskContentBytes(buffer: ArrayBuffer): number {
  const ints = new Int32Array(buffer, 0, TASK_INTS);
  return taskLayout(ints[0]!, ints[2]!).bodiesAt + ints[3]!;
}

/** The worker's view of a task buffer. */
export class Task {
  readonly count: number;
  private readonly fieldsPerRequest: number;
  private readonly ints: Int32Array;
  private readonly receivedAtView: Float64Array;
  private readonly bytes: Uint8Array;
  private readonly flagsAt: number;
  private readonly bodiesAt: number;
  private readonly strings: string[];

  constructor(readonly buffer: ArrayBuffer) {
    const n = new Int32Array(buffer, 0, 1)[0]!;
    this.count = n;
    this.ints = new Int32Array(buffer, 0, TASK_INTS + 2 * n);
    this.fieldsPerRequest = 2 + this.ints[1]!;
    const layout = taskLayout(n, this.ints[2]!);
    this.receivedAtView = new Float64Array(buffer, layout.receivedAtAt, n);
    this.bytes = new Uint8Array(buffer);
    this.flagsAt = layout.flagsAt;
    this.bodiesAt = layout.bodiesAt;
    this.strings = Buffer.from(buffer, layout.stringsAt, this.ints[2]!).toString('utf8').split(SEPARATOR);
  }

  flags(r: number): number {
    return this.bytes[this.flagsAt + r]!;
  }

  receivedAt(r: number): number {
    return this.receivedAtView[r]!;
  }

  body(r: number): Uint8Array {
    const start = this.ints[TASK_INTS + 2 * r]!;
    return new Uint8Array(this.buffer, this.bodiesAt + start, this.ints[TASK_INTS + 2 * r + 1]! - start);
  }

  requestId(r: number): string {
    return this.strings[r * this.fieldsPerRequest]!;
  }

  clientIp(r: number): string {
    return this.strings[r * this.fieldsPerRequest + 1]!;
  }

  header(r: number, h: number): string {
    return this.strings[r * this.fieldsPerRequest + 2 + h]!;
  }
}

/** The fixed-size parts of a result, as the worker accumulated them. */
export interface ResultParts {
  readonly messages: ArrayLike<number>;
  readonly requests: Int32Array;
  readonly timestamps: ArrayLike<number>;
  /** Message values and keys, UTF-8 back to back (offsets in `messages` are bytes). */
  readonly payload: Uint8Array;
  readonly side: ResultSide;
  /** sharedClockMs() when the worker started the task; the end is stamped as the result is written. */
  readonly startedAt: number;
}

/** Right after the header ints: 16 bytes, so 8-aligned. */
const WORKER_SPAN_AT = RESULT_INTS * 4;

function resultLayout(m: number, n: number, payloadBytes: number) {
  const messagesAt = WORKER_SPAN_AT + 2 * 8;
  const requestsAt = messagesAt + m * MESSAGE_FIELDS * 4;
  const timestampsAt = align8(requestsAt + n * REQUEST_FIELDS * 4);
  const payloadAt = timestampsAt + m * 8;
  return { messagesAt, requestsAt, timestampsAt, payloadAt, sideAt: payloadAt + payloadBytes };
}

/**
 * Writes the result into `reuse` (the task's buffer, whose contents are no longer needed) when it
 * fits, else into a new buffer of a pooled size, so that the main thread can recycle either.
 */
export function encodeResult(parts: ResultParts, reuse: ArrayBuffer | null = null): ArrayBuffer {
  const m = parts.timestamps.length;
  const n = parts.requests.length / REQUEST_FIELDS;
  const side = JSON.stringify(parts.side);
  const sideBytes = Buffer.byteLength(side);
  const payloadBytes = parts.payload.length;
  const layout = resultLayout(m, n, payloadBytes);
  const resultBytes = layout.sideAt + sideBytes;
  const buffer = reuse !== null && reuse.byteLength >= resultBytes ? reuse : newTransferableBuffer(TASK_BUFFER_SIZES.sizeFor(resultBytes));
  const bytes = Buffer.from(buffer);
  new Int32Array(buffer, 0, RESULT_INTS).set([m, n, payloadBytes, sideBytes]);
  new Int32Array(buffer, layout.messagesAt, m * MESSAGE_FIELDS).set(parts.messages);
  new Int32Array(buffer, layout.requestsAt, n * REQUEST_FIELDS).set(parts.requests);
  new Float64Array(buffer, layout.timestampsAt, m).set(parts.timestamps);
  bytes.set(parts.payload, layout.payloadAt);
  bytes.write(side, layout.sideAt);
  new Float64Array(buffer, WORKER_SPAN_AT, 2).set([parts.startedAt, sharedClockMs()]);
  return buffer;
}

/** The main thread's view of a result buffer. */
export class TaskResult {
  readonly messages: Int32Array;
  readonly requests: Int32Array;
  readonly timestamps: Float64Array;
  readonly payload: Buffer;
  readonly side: ResultSide;
  /** Bytes the result's contents take (the buffer may be larger). */
  readonly contentBytes: number;
  /** When the worker started and finished the task, shared-clock.ts ms. */
  readonly workerStartedAt: number;
  readonly workerFinishedAt: number;

  constructor(readonly buffer: ArrayBuffer) {
    const [m, n, payloadBytes, sideBytes] = new Int32Array(buffer, 0, RESULT_INTS) as unknown as [number, number, number, number];
    const layout = resultLayout(m, n, payloadBytes);
    this.contentBytes = layout.sideAt + sideBytes;
    [this.workerStartedAt, this.workerFinishedAt] = new Float64Array(buffer, WORKER_SPAN_AT, 2) as unknown as [number, number];
    this.messages = new Int32Array(buffer, layout.messagesAt, m * MESSAGE_FIELDS);
    this.requests = new Int32Array(buffer, layout.requestsAt, n * REQUEST_FIELDS);
    this.timestamps = new Float64Array(buffer, layout.timestampsAt, m);
    this.payload = Buffer.from(buffer, layout.payloadAt, payloadBytes);
    this.side = JSON.parse(Buffer.from(buffer, layout.sideAt, sideBytes).toString('utf8')) as ResultSide;
  }

  detail(index: number): string | null {
    return this.side.details[index] ?? null;
  }
}
