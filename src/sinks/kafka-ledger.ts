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

  /** The sequence number the next reserved message gets; those after it follow on, one each. */
  get nextSeq(): number {
    return this.next;
  }

  /**
   * Takes slots for messages first, first+1, … of a batch, with consecutive sequence numbers from
   * nextSeq, up to `count` or a slot still taken (too much in flight); returns how many it took.
   */
  reserve(batch: MessageBatch, first: number, count: number): number {
    let taken = 0;
    for (; taken < count; taken++) {
      const slot = (this.next + taken) & (LEDGER_SLOTS - 1);
      if (this.batches[slot] !== undefined) break;
      this.batches[slot] = batch;
      this.indexes[slot] = first + taken;
    }
    // Sequence numbers wrap at a multiple of LEDGER_SLOTS, so a number past the wrap (as the native
    // side counts on from the first) still names the same slot.
    this.next = (this.next + taken) & 0x3fffffff;
    this.pending += taken;
    return taken;
  }

  settle(seq: number, failure: SinkFailure | null): void {
    const slot = seq & (LEDGER_SLOTS - 1);
    const batch = this.batches[slot];
    if (batch === undefined) return;
    this.release(seq, 1);
    batch.settle(this.indexes[slot]!, failure);
  }

  /** Frees the slots of `count` messages from `seq` that never reached librdkafka (the caller settles them). */
  release(seq: number, count: number): void {
    for (let i = 0; i < count; i++) this.batches[(seq + i) & (LEDGER_SLOTS - 1)] = undefined;
    this.pending -= count;
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
