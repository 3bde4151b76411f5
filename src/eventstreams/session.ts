import type { HttpResponse } from 'uWebSockets.js';
import type { Message } from 'node-rdkafka';
import type { Counter, Metrics } from '../metrics';
import { writeHead, type ResponseMeta } from '../http/respond';
import type { EventFilter } from './event-filter';
import { encodeEventId, type PartitionMark } from './event-id';
import { partitionKey } from './start-plan';
import { SSE_CONTENT_TYPE, SSE_HEADERS, sseComment, sseMessage } from './sse';
import type { Assignment, StreamConsumer } from './stream-consumer';

export type DisconnectReason = 'client_closed' | 'slow_client' | 'kafka_error' | 'shutdown';

export interface SessionOptions {
  readonly keepaliveMs: number;
  readonly pollIntervalMs: number;
  readonly maxBufferedBytes: number;
  readonly maxStallMs: number;
  readonly discoveryIntervalMs: number;
}

/** What one client asked for beyond its start position. */
export interface ClientRequest {
  readonly topicStreams: ReadonlyMap<string, string>;
  readonly filter: EventFilter | null;
}

/** Messages taken per poll: a full batch means more are waiting, so the next poll follows at once. */
const POLL_BATCH = 100;
const KEEPALIVE = sseComment('keep-alive');
/** Written when the socket drains: with onWritable set, uWS flushes its buffer only on a write. */
const DRAIN_NUDGE = ':\n\n';

/**
 * One EventStreams client: polls its consumer and writes each message as an SSE event whose id
 * carries every partition's position. Once uWS holds unsent bytes (write() returned false) the
 * consumer is not polled, and the batch in hand is written on only until maxBufferedBytes more are
 * buffered: per client, memory holds at most that, one event, and one poll's batch, so a burst slows a
 * slow reader's own consumer instead of growing a buffer. A socket that has not drained within
 * maxStallMs is disconnected (a reader that stopped must not hold a consumer for ever).
 */
export class SseSession {
  private ended = false;
  private backedUp = false;
  /** Bytes written after the chunk that backed up, until the socket drains: with that chunk, what uWS buffers at most. */
  private pendingBytes = 0;
  private pollTimer: NodeJS.Timeout | null = null;
  /** A poll is scheduled or in flight: one chain of polls at a time keeps each partition's order. */
  private polling = false;
  /** The last poll's messages; those from `next` on wait for the socket to drain. */
  private batch: readonly Message[] = [];
  private next = 0;
  private stallTimer: NodeJS.Timeout | null = null;
  private readonly keepaliveTimer: NodeJS.Timeout;
  private readonly discoveryTimer: NodeJS.Timeout;
  private discovering = false;
  private readonly marks: PartitionMark[];
  private readonly markIndex = new Map<string, number>();
  private readonly sentCounters = new Map<string, Counter>();

  constructor(
    private readonly res: HttpResponse,
    private readonly consumer: StreamConsumer,
    assignments: readonly Assignment[],
    private readonly request: ClientRequest,
    private readonly opts: SessionOptions,
    private readonly metrics: Metrics,
    private readonly onEnd: (session: SseSession, reason: DisconnectReason) => void,
  ) {
    this.marks = assignments.map((a) => ({ topic: a.topic, partition: a.partition, offset: a.offset - 1 }));
    assignments.forEach((a, i) => this.markIndex.set(partitionKey(a), i));
    for (const [topic, stream] of request.topicStreams) this.sentCounters.set(topic, metrics.sseEvents.labels(stream));
    this.keepaliveTimer = setInterval(() => this.keepalive(), opts.keepaliveMs).unref();
    this.discoveryTimer = setInterval(() => this.discover(), opts.discoveryIntervalMs).unref();
  }

  /** Sends the head and the opening comment; call corked, while the request is still open. */
  begin(meta: ResponseMeta): void {
    this.res.onWritable(() => this.drained());
    writeHead(this.res, meta, { status: 200, contentType: SSE_CONTENT_TYPE, headers: SSE_HEADERS });
    this.write(sseComment(`reading ${this.marks.length} partitions`));
    this.schedulePoll(0);
  }

  /** Ends the session: the client went away (`client_closed`: the response must not be touched) or we end it. */
  end(reason: DisconnectReason): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.keepaliveTimer);
    clearInterval(this.discoveryTimer);
    this.clearStallTimer();
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    // A slow client's buffer is dropped rather than flushed; others get a clean end of stream.
    if (reason === 'slow_client') this.res.close();
    else if (reason !== 'client_closed') this.res.cork(() => this.res.end());
    this.onEnd(this, reason);
  }

  private schedulePoll(delayMs: number): void {
    if (this.ended || this.backedUp || this.polling) return;
    this.polling = true;
    this.pollTimer = setTimeout(() => this.poll(), delayMs);
  }

  private poll(): void {
    this.pollTimer = null;
    this.consumer.poll(POLL_BATCH).then(
      (messages) => {
        this.polling = false;
        if (this.ended) return;
        this.batch = messages;
        this.next = 0;
        this.res.cork(() => this.flush());
      },
      () => this.end('kafka_error'),
    );
  }

  /** Writes the batch on until the client is backed up by maxBufferedBytes; polls again once it is all written. */
  private flush(): void {
    while (this.next < this.batch.length) {
      if (this.ended || (this.backedUp && this.pendingBytes >= this.opts.maxBufferedBytes)) return;
      this.send(this.batch[this.next++]!);
    }
    this.schedulePoll(this.batch.length === POLL_BATCH ? 0 : this.opts.pollIntervalMs);
  }

  private send(message: Message): void {
    const i = this.markIndex.get(partitionKey(message));
    if (i === undefined) return;
    this.marks[i] = { topic: message.topic, partition: message.partition, offset: message.offset };
    const data = message.value?.toString('utf8') ?? 'null';
    if (this.request.filter !== null && !this.request.filter.matches(data)) return;
    this.write(sseMessage(encodeEventId(this.marks), data));
    this.sentCounters.get(message.topic)?.inc();
  }

  private write(chunk: string): void {
    const bytes = Buffer.byteLength(chunk);
    this.metrics.sseBytes.inc(bytes);
    const flushed = this.res.write(chunk);
    if (this.backedUp) {
      this.pendingBytes += bytes;
    } else if (!flushed) {
      // Part of this chunk is buffered; what follows it until the socket drains is counted.
      this.backedUp = true;
      this.stallTimer = setTimeout(() => this.end('slow_client'), this.opts.maxStallMs);
    }
  }

  private drained(): boolean {
    if (!this.backedUp || this.ended) return true;
    const flushed = this.res.write(DRAIN_NUDGE);
    if (flushed) {
      this.backedUp = false;
      this.pendingBytes = 0;
      this.clearStallTimer();
      this.flush();
    }
    return flushed;
  }

  /** Picks up partitions created since the client connected; a failed look-up is retried next interval. */
  private discover(): void {
    if (this.discovering) return;
    this.discovering = true;
    const settle = (): void => {
      this.discovering = false;
    };
    this.consumer.discover([...this.request.topicStreams.keys()], new Set(this.markIndex.keys())).then((added) => {
      settle();
      for (const a of added) {
        this.markIndex.set(partitionKey(a), this.marks.length);
        this.marks.push({ topic: a.topic, partition: a.partition, offset: a.offset - 1 });
      }
    }, settle);
  }

  private clearStallTimer(): void {
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }

  private keepalive(): void {
    if (!this.ended && !this.backedUp) this.res.cork(() => this.write(KEEPALIVE));
  }
}
