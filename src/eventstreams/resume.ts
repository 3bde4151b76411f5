import { decodeEventId, type Decoded, type PartitionMark } from './event-id';

/**
 * Where a client asked to start (DESIGN.md §10): after the positions of its Last-Event-ID, and for
 * partitions that id does not name, from `since` (ms) or — neither given — at the end (new events only).
 */
export interface ResumeRequest {
  readonly after: readonly PartitionMark[];
  readonly since: number | null;
}

const EPOCH_MS = /^\d{1,15}$/;
/** A calendar date, optionally with a time and zone: what Date.parse reads the same everywhere. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function parseResume(lastEventId: string, since: string): Decoded<ResumeRequest> {
  let after: PartitionMark[] = [];
  if (lastEventId !== '') {
    const decoded = decodeEventId(lastEventId);
    if (!decoded.ok) return decoded;
    after = decoded.value;
  }
  if (since === '') return { ok: true, value: { after, since: null } };
  const ms = parseSince(since);
  if (ms === null) return { ok: false, error: `since=${JSON.stringify(since.slice(0, 100))}: expected an ISO-8601 date-time or epoch milliseconds` };
  return { ok: true, value: { after, since: ms } };
}

export function parseSince(text: string): number | null {
  if (EPOCH_MS.test(text)) return Number(text);
  if (!ISO_8601.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) || ms < 0 ? null : ms;
}
