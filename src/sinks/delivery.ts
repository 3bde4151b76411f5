import type { IntakeRequest } from '../batching/request';
import type { TaskBuffers } from '../batching/task-buffers';
import { FLAG_HASTY, MESSAGE_ERROR_EVENT, MESSAGE_FIELDS, MessageField, REQUEST_FIELDS, REQUEST_PROBLEMS, RequestField, type TaskResult } from '../batching/wire';
import type { Metrics } from '../metrics';
import { EventKinds, RequestKinds } from '../outcomes';
import { decodeBytes } from '../../workers/body';
import type { MessageBatch, Sink, SinkFailure } from './types';

/**
 * One worker task's result on its way through the sink: the MessageBatch the sink sees, and the
 * book-keeping that completes each request once its last event is settled.
 */
export class TaskDelivery implements MessageBatch {
  readonly size: number;
  readonly payload: Buffer;
  readonly spans: Int32Array;
  readonly spanStride = MESSAGE_FIELDS;
  readonly timestamps: Float64Array;
  private readonly remaining: Int32Array;
  private readonly sinkFailures: Int32Array;
  private readonly errorItems: (string[] | undefined)[];
  // Per-stream tallies, recorded once per task when the last message settles (never per event).
  private readonly successByStream = new Map<number, number>();
  private readonly failedByStream = new Map<number, number>();
  private readonly bytesByStream = new Map<number, number>();
  private readonly settled: Uint8Array;
  private unsettled: number;
  private readonly sentAt = process.hrtime.bigint();
  private deadline: NodeJS.Timeout | null = null;
  /** Settled by the deadline: the sink may still hold slices of the payload, so its buffer is not reused. */
  private expired = false;

  constructor(
    private readonly requests: readonly IntakeRequest[],
    private readonly result: TaskResult,
    private readonly metrics: Metrics,
    private readonly timeoutMs: number,
    private readonly buffers: TaskBuffers | null = null,
  ) {
    this.size = result.messages.length / MESSAGE_FIELDS;
    this.unsettled = this.size;
    this.settled = new Uint8Array(this.size);
    this.payload = result.payload;
    // A view from each message's ValueStart: ValueEnd, KeyStart and KeyEnd follow it in the wire format.
    this.spans = result.messages.subarray(MessageField.ValueStart);
    this.timestamps = result.timestamps;
    this.remaining = new Int32Array(requests.length);
    this.sinkFailures = new Int32Array(requests.length);
    this.errorItems = new Array(requests.length);
    for (let m = 0; m < this.size; m++) {
      if (this.field(m, MessageField.Kind) !== MESSAGE_ERROR_EVENT) this.remaining[this.field(m, MessageField.Request)]++;
    }
  }

  /** Completes what needs no sink, then hands the messages over. */
  start(sink: Sink): void {
    for (let r = 0; r < this.requests.length; r++) if (this.remaining[r] === 0) this.complete(r);
    if (this.size === 0) this.buffers?.release(this.result.buffer);
    else {
      this.metrics.sinkQueueMessages.inc(this.size);
      // The sink's own timeouts are not always enough (an idempotent Kafka producer keeps in-flight
      // messages past message.timeout.ms): no request waits longer than this, whatever the sink does.
      this.deadline = setTimeout(() => this.expire(), this.timeoutMs);
      sink.send(this);
    }
  }

  private expire(): void {
    this.expired = true;
    // The topic is named: a topic that does not exist ends here, and librdkafka says no more than this.
    for (let i = 0; i < this.size; i++) {
      if (this.settled[i] === 0) this.settle(i, { reason: 'delivery_timeout', message: `delivery to topic ${this.topic(i)} not confirmed within ${this.timeoutMs} ms` });
    }
  }

  topic(i: number): string {
    return this.result.side.names[this.field(i, MessageField.Topic)]!;
  }

  value(i: number): Buffer {
    const start = this.field(i, MessageField.ValueStart);
    return this.payload.subarray(start, this.field(i, MessageField.ValueEnd));
  }

  hasty(i: number): boolean {
    return (this.requests[this.field(i, MessageField.Request)]!.flags & FLAG_HASTY) !== 0;
  }

  isSettled(i: number): boolean {
    return this.settled[i] === 1;
  }

  /** A late report for a message already settled (timed out) is ignored. */
  settle(i: number, failure: SinkFailure | null): void {
    if (this.settled[i] === 1) return;
    this.settled[i] = 1;
    this.record(i, failure);
    if (--this.unsettled === 0) this.finished();
  }

  private record(i: number, failure: SinkFailure | null): void {
    if (this.field(i, MessageField.Kind) === MESSAGE_ERROR_EVENT) {
      this.metrics.errorEvents.inc({ result: failure === null ? 'produced' : 'failed' });
      return;
    }
    const r = this.field(i, MessageField.Request);
    const stream = this.field(i, MessageField.Stream);
    if (failure === null) {
      tally(this.successByStream, stream, 1);
      tally(this.bytesByStream, stream, this.field(i, MessageField.ValueEnd) - this.field(i, MessageField.ValueStart));
    } else {
      tally(this.failedByStream, stream, 1);
      this.sinkFailures[r]++;
      (this.errorItems[r] ??= []).push(this.sinkErrorItem(i, failure.message));
      this.metrics.sinkErrors.inc({ reason: failure.reason });
    }
    if (--this.remaining[r]! === 0) this.complete(r);
  }

  private finished(): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.metrics.sinkQueueMessages.dec(this.size);
    this.metrics.sinkDelivery.observe(Number(process.hrtime.bigint() - this.sentAt) / 1e9);
    const { names } = this.result.side;
    for (const [stream, count] of this.successByStream) this.metrics.events.inc({ stream: names[stream]!, outcome: 'success' }, count);
    for (const [stream, bytes] of this.bytesByStream) this.metrics.eventBytes.inc({ stream: names[stream]! }, bytes);
    // A sink failure is the event's final outcome: it is answered as an error row (DESIGN.md §2.3).
    for (const [stream, count] of this.failedByStream) this.metrics.events.inc({ stream: names[stream]!, outcome: 'error' }, count);
    // Every message is settled, so the sink is done with the payload (the Kafka client copies it on
    // produce; the file sink settles after its write).
    if (!this.expired) this.buffers?.release(this.result.buffer);
  }

  private complete(r: number): void {
    const base = r * REQUEST_FIELDS;
    const problem = this.result.requests[base + RequestField.Problem]!;
    const request = this.requests[r]!;
    if (problem !== 0) {
      const kind = RequestKinds[REQUEST_PROBLEMS[problem - 1]!];
      request.complete({ problem: kind, detail: this.result.detail(2 * r), success: 0, invalid: 0, error: 0, invalidItems: null, errorItems: null });
      return;
    }
    const failed = this.sinkFailures[r]!;
    const workerErrors = this.result.detail(2 * r + 1);
    const sinkErrors = this.errorItems[r]?.join(',');
    request.complete({
      problem: null,
      detail: null,
      success: this.result.requests[base + RequestField.Valid]! - failed,
      invalid: this.result.requests[base + RequestField.Invalid]!,
      error: this.result.requests[base + RequestField.Error]! + failed,
      invalidItems: this.result.detail(2 * r),
      errorItems: joinItems(workerErrors ?? null, sinkErrors ?? null),
    });
  }

  /**
   * Sink failures echo the event as received, like every EventStatus: the request body is decoded
   * again for it. Failures are the rare path; deliveries never pay for this.
   */
  private sinkErrorItem(i: number, error: string): string {
    const context = { error_type: EventKinds.SinkError.errorType, message: error };
    const request = this.requests[this.field(i, MessageField.Request)]!;
    const decoded = decodeBytes(request.body, request.flags, Number.MAX_SAFE_INTEGER);
    const original = decoded.ok ? JSON.stringify(decoded.events[this.field(i, MessageField.Position)]) : this.value(i).toString();
    return `{"status":"error","event":${original},"context":${JSON.stringify(context)}}`;
  }

  private field(message: number, field: MessageField): number {
    return this.result.messages[message * MESSAGE_FIELDS + field]!;
  }
}

function tally(counts: Map<number, number>, key: number, n: number): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

function joinItems(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return `${a},${b}`;
}
