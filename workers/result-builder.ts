import {
  REQUEST_FIELDS,
  REQUEST_PROBLEMS,
  RequestField,
  encodeResult,
  type RequestProblem,
  type SchemaCacheStats,
  type StreamCount,
} from '../src/batching/wire';
import { sharedClockMs } from '../src/batching/shared-clock';
import { Utf8Appender } from './utf8-appender';

/**
 * Accumulates one task's output and packs it into the wire format of src/batching/wire.ts:
 * each message text is encoded to UTF-8 as it comes, and the bytes are copied once into the buffer
 * that is transferred back.
 */
export class ResultBuilder {
  private readonly messageInts: number[] = [];
  private readonly timestamps: number[] = [];
  private readonly nameIndex = new Map<string, number>();
  private readonly requests: Int32Array;
  private readonly problemDetails = new Map<number, string>();
  /** Per request, created on its first failed event: most requests have none. */
  private readonly invalidItems: (string[] | undefined)[];
  private readonly errorItems: (string[] | undefined)[];
  private readonly counts = new Map<string, StreamCount>();
  private droppedErrorEvents = 0;

  /**
   * `payload`: where message texts are encoded; a worker passes the one it reuses for every task.
   * `startedAt`: when the worker started the task (sharedClockMs), reported with the result.
   */
  constructor(
    requestCount: number,
    private readonly payload = new Utf8Appender(),
    private readonly startedAt = sharedClockMs(),
  ) {
    payload.reset();
    this.requests = new Int32Array(requestCount * REQUEST_FIELDS);
    this.invalidItems = new Array(requestCount);
    this.errorItems = new Array(requestCount);
  }

  problem(request: number, kind: RequestProblem, detail: string): void {
    this.requests[request * REQUEST_FIELDS + RequestField.Problem] = 1 + REQUEST_PROBLEMS.indexOf(kind);
    this.problemDetails.set(request, detail);
  }

  message(request: number, position: number, topic: string, value: string, key: string | null, timestamp: number, kind: number, stream: string): void {
    const topicId = this.nameId(topic);
    const streamId = this.nameId(stream);
    const payload = this.payload;
    const valueStart = payload.length;
    payload.append(value);
    const valueEnd = payload.length;
    if (key !== null) payload.append(key);
    this.messageInts.push(request, topicId, valueStart, valueEnd, key === null ? -1 : valueEnd, key === null ? 0 : payload.length, kind, streamId, position);
    this.timestamps.push(timestamp);
  }

  private nameId(name: string): number {
    let id = this.nameIndex.get(name);
    if (id === undefined) {
      id = this.nameIndex.size;
      this.nameIndex.set(name, id);
    }
    return id;
  }

  valid(request: number, stream: string): void {
    this.requests[request * REQUEST_FIELDS + RequestField.Valid]++;
    this.count(stream).valid++;
  }

  failed(request: number, group: 'invalid' | 'error', item: string, stream: string, schema: string, errorType: string): void {
    this.requests[request * REQUEST_FIELDS + (group === 'invalid' ? RequestField.Invalid : RequestField.Error)]++;
    ((group === 'invalid' ? this.invalidItems : this.errorItems)[request] ??= []).push(item);
    const count = this.count(stream);
    count[group]++;
    const bySchema = (count.kinds[schema] ??= {});
    bySchema[errorType] = (bySchema[errorType] ?? 0) + 1;
  }

  errorEventDropped(): void {
    this.droppedErrorEvents++;
  }

  private count(stream: string): StreamCount {
    let count = this.counts.get(stream);
    if (!count) {
      count = { stream, valid: 0, invalid: 0, error: 0, kinds: {} };
      this.counts.set(stream, count);
    }
    return count;
  }

  /** `reuse`: the task's buffer, written over when the result fits (see wire.ts `encodeResult`). */
  build(schemaCache?: SchemaCacheStats, reuse: ArrayBuffer | null = null): ArrayBuffer {
    const details: Record<number, string> = {};
    for (let r = 0; r < this.invalidItems.length; r++) {
      const problem = this.problemDetails.get(r);
      if (problem !== undefined) {
        details[2 * r] = problem;
        continue;
      }
      const invalid = this.invalidItems[r];
      const error = this.errorItems[r];
      if (invalid !== undefined) details[2 * r] = invalid.join(',');
      if (error !== undefined) details[2 * r + 1] = error.join(',');
    }
    return encodeResult({
      messages: this.messageInts,
      requests: this.requests,
      timestamps: this.timestamps,
      payload: this.payload.contents(),
      // undefined is left out of the JSON: a task with nothing dropped carries nothing for it.
      side: { names: [...this.nameIndex.keys()], details, counts: [...this.counts.values()], schemaCache, droppedErrorEvents: this.droppedErrorEvents || undefined },
      startedAt: this.startedAt,
    }, reuse);
  }
}
