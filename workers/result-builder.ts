import {
  MESSAGE_FIELDS,
  MessageField,
  REQUEST_FIELDS,
  REQUEST_PROBLEMS,
  RequestField,
  encodeResult,
  type RequestProblem,
  type SchemaCacheStats,
  type StreamCount,
} from '../src/batching/wire';

/**
 * Accumulates one task's output and packs it into the wire format of src/batching/wire.ts:
 * all message text is encoded to UTF-8 once, into one buffer that is transferred back.
 */
export class ResultBuilder {
  private readonly texts: string[] = [];
  private readonly messageInts: number[] = [];
  private readonly timestamps: number[] = [];
  private readonly nameIndex = new Map<string, number>();
  private readonly requests: Int32Array;
  private readonly problemDetails = new Map<number, string>();
  /** Per request, created on its first failed event: most requests have none. */
  private readonly invalidItems: (string[] | undefined)[];
  private readonly errorItems: (string[] | undefined)[];
  private readonly counts = new Map<string, StreamCount>();

  constructor(requestCount: number) {
    this.requests = new Int32Array(requestCount * REQUEST_FIELDS);
    this.invalidItems = new Array(requestCount);
    this.errorItems = new Array(requestCount);
  }

  problem(request: number, kind: RequestProblem, detail: string): void {
    this.requests[request * REQUEST_FIELDS + RequestField.Problem] = 1 + REQUEST_PROBLEMS.indexOf(kind);
    this.problemDetails.set(request, detail);
  }

  /** `text` order: value, then key (when keyed). */
  message(request: number, position: number, topic: string, value: string, key: string | null, timestamp: number, kind: number, stream: string): void {
    const topicId = this.nameId(topic);
    const streamId = this.nameId(stream);
    // Offsets are filled in as text indexes here and turned into byte offsets by build().
    this.texts.push(value);
    if (key !== null) this.texts.push(key);
    this.messageInts.push(request, topicId, this.texts.length - (key === null ? 1 : 2), 0, key === null ? -1 : this.texts.length - 1, 0, kind, streamId, position);
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
    const payload = this.texts.join('');
    const payloadBytes = Buffer.byteLength(payload);
    const byteOffsets = textOffsets(this.texts, payload.length === payloadBytes);
    const messages = this.messageInts;
    for (let m = 0; m < messages.length; m += MESSAGE_FIELDS) {
      const valueText = messages[m + MessageField.ValueStart]!;
      messages[m + MessageField.ValueStart] = byteOffsets[valueText]!;
      messages[m + MessageField.ValueEnd] = byteOffsets[valueText + 1]!;
      const keyText = messages[m + MessageField.KeyStart]!;
      if (keyText >= 0) {
        messages[m + MessageField.KeyStart] = byteOffsets[keyText]!;
        messages[m + MessageField.KeyEnd] = byteOffsets[keyText + 1]!;
      }
    }
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
      messages,
      requests: this.requests,
      timestamps: this.timestamps,
      payload,
      payloadBytes,
      side: { names: [...this.nameIndex.keys()], details, counts: [...this.counts.values()], schemaCache },
    }, reuse);
  }
}

/** Where each text starts in the UTF-8 payload (length + 1 entries); ASCII payloads need no counting. */
function textOffsets(texts: string[], ascii: boolean): Int32Array {
  const offsets = new Int32Array(texts.length + 1);
  let offset = 0;
  for (let i = 0; i < texts.length; i++) {
    offsets[i] = offset;
    const text = texts[i]!;
    offset += ascii ? text.length : Buffer.byteLength(text);
  }
  offsets[texts.length] = offset;
  return offsets;
}
