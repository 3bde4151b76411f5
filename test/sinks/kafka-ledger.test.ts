import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DeliveryLedger } from '../../src/sinks/kafka-ledger';
import type { MessageBatch, SinkFailure } from '../../src/sinks/types';

/** A batch that records what was settled, by index. */
function recordingBatch(): { batch: MessageBatch; settled: Map<number, SinkFailure | null> } {
  const settled = new Map<number, SinkFailure | null>();
  const batch = { settle: (i: number, failure: SinkFailure | null) => settled.set(i, failure) } as Partial<MessageBatch> as MessageBatch;
  return { batch, settled };
}

const SLOTS = 1 << 17;

describe('DeliveryLedger', () => {
  it('gives a run consecutive sequence numbers and settles each report to its own message', () => {
    const ledger = new DeliveryLedger();
    const { batch, settled } = recordingBatch();
    const seq = ledger.nextSeq;
    assert.equal(ledger.reserve(batch, 10, 3), 3);
    assert.equal(ledger.nextSeq, seq + 3);
    assert.equal(ledger.pending, 3);
    const failure = { reason: 'kafka_msg_timed_out', message: 'kafka: timed out' };
    ledger.settle(seq + 2, failure);
    ledger.settle(seq, null);
    ledger.settle(seq, null); // a second report for the same number is ignored
    assert.deepEqual([...settled], [[12, failure], [10, null]]);
    assert.equal(ledger.pending, 1);
  });

  it('stops a run at a slot still taken, and takes it again once released', () => {
    const ledger = new DeliveryLedger();
    const { batch } = recordingBatch();
    const first = ledger.nextSeq;
    assert.equal(ledger.reserve(batch, 0, 5), 5);
    // Fill the ring up to the run's start: the next run may only take what is left before it.
    assert.equal(ledger.reserve(batch, 0, SLOTS), SLOTS - 5);
    assert.equal(ledger.reserve(batch, 0, 1), 0);
    ledger.release(first + 1, 2); // slots 1 and 2: free, but the ring's next slot (0) is not
    assert.equal(ledger.reserve(batch, 0, 3), 0);
    ledger.release(first, 1);
    assert.equal(ledger.reserve(batch, 0, 5), 3);
    assert.equal(ledger.pending, SLOTS);
  });

  it('names the same slot with a number counted past the wrap', () => {
    const ledger = new DeliveryLedger();
    const { batch, settled } = recordingBatch();
    assert.equal(ledger.nextSeq, 0);
    assert.equal(ledger.reserve(batch, 7, 2), 2);
    // Numbers wrap at 2^30; the native side counts a run on from its first without wrapping, so the
    // message numbered 1 after a wrap may come back as 2^30 + 1.
    ledger.settle(2 ** 30 + 1, null);
    assert.deepEqual([...settled], [[8, null]]);
  });
});
