import type { PartitionMark } from './event-id';
import type { ResumeRequest } from './resume';

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Where one partition starts, before offsets are looked up: an offset, a time, or the end. */
export type PartitionStart = TopicPartition & ({ readonly offset: number } | { readonly timestamp: number } | { readonly end: true });

/**
 * Decides per partition where reading starts: just after the Last-Event-ID's offset, or at its
 * timestamp; partitions the id does not name start at `since`, else at the end (new events only).
 */
export function planStart(partitions: readonly TopicPartition[], resume: ResumeRequest): PartitionStart[] {
  const marks = new Map<string, PartitionMark>(resume.after.map((m) => [partitionKey(m), m]));
  return partitions.map((p): PartitionStart => {
    const mark = marks.get(partitionKey(p));
    if (mark !== undefined) return 'offset' in mark ? { ...p, offset: mark.offset + 1 } : { ...p, timestamp: mark.timestamp };
    return resume.since !== null ? { ...p, timestamp: resume.since } : { ...p, end: true };
  });
}

export function partitionKey(p: TopicPartition): string {
  return `${p.partition}:${p.topic}`;
}
