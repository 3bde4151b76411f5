import {
  MESSAGE_FIELDS,
  REQUEST_FIELDS,
  REQUEST_PROBLEMS,
  RequestField,
  type RequestProblem,
  type StreamCount,
  type TaskResult,
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
  private readonly details: (string | null)[];
  private readonly invalidItems: string[][];
  private readonly errorItems: string[][];
  private readonly counts = new Map<string, StreamCount>();

  constructor(requestCount: number) {
    this.requests = new Int32Array(requestCount * REQUEST_FIELDS);
    this.details = new Array<string | null>(requestCount * 2).fill(null);
    this.invalidItems = Array.from({ length: requestCount }, () => []);
    this.errorItems = Array.from({ length: requestCount }, () => []);
  }

  problem(request: number, kind: RequestProblem, detail: string): void {
    this.requests[request * REQUEST_FIELDS + RequestField.Problem] = 1 + REQUEST_PROBLEMS.indexOf(kind);
    this.details[request * 2] = detail;
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

  failed(request: number, group: 'invalid' | 'error', item: string, stream: string, errorType: string): void {
    this.requests[request * REQUEST_FIELDS + (group === 'invalid' ? RequestField.Invalid : RequestField.Error)]++;
    (group === 'invalid' ? this.invalidItems : this.errorItems)[request]!.push(item);
    const count = this.count(stream);
    count[group]++;
    count.kinds[errorType] = (count.kinds[errorType] ?? 0) + 1;
  }

  private count(stream: string): StreamCount {
    let count = this.counts.get(stream);
    if (!count) {
      count = { stream, valid: 0, invalid: 0, error: 0, kinds: {} };
      this.counts.set(stream, count);
    }
    return count;
  }

  build(): TaskResult {
    const { payload, byteOffsets } = encodeTexts(this.texts);
    const messages = Int32Array.from(this.messageInts);
    for (let m = 0; m < messages.length; m += MESSAGE_FIELDS) {
      const valueText = messages[m + 2]!;
      messages[m + 2] = byteOffsets[valueText]!;
      messages[m + 3] = byteOffsets[valueText + 1]!;
      const keyText = messages[m + 4]!;
      if (keyText >= 0) {
        messages[m + 4] = byteOffsets[keyText]!;
        messages[m + 5] = byteOffsets[keyText + 1]!;
      }
    }
    for (let r = 0; r < this.invalidItems.length; r++) {
      if (this.details[r * 2] !== null) continue;
      const invalid = this.invalidItems[r]!;
      const error = this.errorItems[r]!;
      if (invalid.length > 0) this.details[r * 2] = invalid.join(',');
      if (error.length > 0) this.details[r * 2 + 1] = error.join(',');
    }
    return {
      payload,
      messages,
      timestamps: Float64Array.from(this.timestamps),
      names: [...this.nameIndex.keys()],
      requests: this.requests,
      details: this.details,
      counts: [...this.counts.values()],
    };
  }
}

/** One UTF-8 encode for all texts; byteOffsets[i] is where text i starts (length + 1 entries). */
function encodeTexts(texts: string[]): { payload: ArrayBuffer; byteOffsets: Int32Array } {
  const all = texts.join('');
  const byteLength = Buffer.byteLength(all);
  // allocUnsafeSlow: a pooled Buffer would share (and transfer away) the pool's ArrayBuffer.
  const bytes = Buffer.allocUnsafeSlow(byteLength);
  bytes.write(all);
  const byteOffsets = new Int32Array(texts.length + 1);
  const ascii = byteLength === all.length;
  let offset = 0;
  for (let i = 0; i < texts.length; i++) {
    byteOffsets[i] = offset;
    const text = texts[i]!;
    offset += ascii ? text.length : Buffer.byteLength(text);
  }
  byteOffsets[texts.length] = offset;
  return { payload: bytes.buffer as ArrayBuffer, byteOffsets };
}
