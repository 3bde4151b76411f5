/**
 * The SSE `id` of an EventStreams message (DESIGN.md §10): a JSON array with one entry per assigned
 * partition, so the id alone says where every partition was read up to. An entry holds the offset of
 * the last message sent from that partition (`offset`), or a Kafka timestamp (`timestamp`, ms) to
 * resume from by time — e.g. an id written for another datacenter's topics, whose offsets differ.
 *
 *   [{"topic":"eqiad.page-create","partition":0,"offset":41},{"topic":"codfw.page-create","partition":0,"offset":-1}]
 *
 * Offset -1 means nothing was sent from the partition before its first offset 0.
 */
export type PartitionMark =
  | { readonly topic: string; readonly partition: number; readonly offset: number }
  | { readonly topic: string; readonly partition: number; readonly timestamp: number };

export function encodeEventId(marks: readonly PartitionMark[]): string {
  return JSON.stringify(marks);
}

/** Bounds what a client can make us parse and keep per connection. */
const MAX_ID_CHARS = 64 * 1024;

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export function decodeEventId(text: string): Decoded<PartitionMark[]> {
  if (text.length > MAX_ID_CHARS) return { ok: false, error: `Last-Event-ID longer than ${MAX_ID_CHARS} characters` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: 'Last-Event-ID is not JSON' };
  }
  if (!Array.isArray(parsed)) return { ok: false, error: 'Last-Event-ID must be a JSON array of {topic, partition, offset|timestamp}' };
  const marks: PartitionMark[] = [];
  for (const [i, entry] of parsed.entries()) {
    const mark = markOf(entry);
    if (mark === null) return { ok: false, error: `Last-Event-ID entry ${i}: expected {topic, partition, offset} or {topic, partition, timestamp}` };
    marks.push(mark);
  }
  return { ok: true, value: marks };
}

function markOf(entry: unknown): PartitionMark | null {
  if (typeof entry !== 'object' || entry === null) return null;
  const { topic, partition, offset, timestamp } = entry as Record<string, unknown>;
  if (typeof topic !== 'string' || topic === '' || !isCount(partition)) return null;
  if (Number.isSafeInteger(offset) && (offset as number) >= -1 && timestamp === undefined) return { topic, partition, offset: offset as number };
  if (isCount(timestamp) && offset === undefined) return { topic, partition, timestamp };
  return null;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
