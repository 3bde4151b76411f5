import type { MessageBatch, SinkFailure } from './types';

/** Slots of the delivery ledger: a power of two above librdkafka's default queue bound (100 000). */
const LEDGER_SLOTS = 1 << 17;

/**
 * Matches delivery reports to (batch, index) without a closure or object per message: each message's
 * opaque is a sequence number, and its batch and index sit in a ring of slots until its report comes.
 */
export class DeliveryLedger {
  private readonly batches = new Array<MessageBatch | undefined>(LEDGER_SLOTS);
  private readonly indexes = new Int32Array(LEDGER_SLOTS);
  private next = 0;
  pending = 0;

  /** The sequence number for this message, or -1 when its slot is still taken (too much in flight). */
  add(batch: MessageBatch, index: number): number {
    const seq = this.next;
    const slot = seq & (LEDGER_SLOTS - 1);
    if (this.batches[slot] !== undefined) return -1;
    this.batches[slot] = batch;
    this.indexes[slot] = index;
    this.next = (seq + 1) & 0x3fffffff;
    this.pending++;
    return seq;
  }

  settle(seq: number, failure: SinkFailure | null): void {
    const slot = seq & (LEDGER_SLOTS - 1);
    const batch = this.batches[slot];
    if (batch === undefined) return;
    this.release(seq);
    batch.settle(this.indexes[slot]!, failure);
  }

  /** Frees a slot whose message never reached librdkafka (the caller settles it). */
  release(seq: number): void {
    this.batches[seq & (LEDGER_SLOTS - 1)] = undefined;
    this.pending--;
  }
}

/**
 * Messages librdkafka had no room for yet, oldest first. They wait here instead of failing: a hasty
 * request was answered 202 already, and its events must still reach Kafka. New requests are refused
 * (503) while anything waits, and the in-flight byte limit bounds how much can.
 */
export class Backlog {
  private batches: MessageBatch[] = [];
  private indexes: number[] = [];
  private head = 0;

  get size(): number {
    return this.batches.length - this.head;
  }

  push(batch: MessageBatch, index: number): void {
    this.batches.push(batch);
    this.indexes.push(index);
  }

  peekBatch(): MessageBatch {
    return this.batches[this.head]!;
  }

  peekIndex(): number {
    return this.indexes[this.head]!;
  }

  shift(): void {
    this.head++;
    if (this.head === this.batches.length) {
      this.batches = [];
      this.indexes = [];
      this.head = 0;
    }
  }
}
