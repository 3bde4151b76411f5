/**
 * Sluice's second patch to node-rdkafka (scripts/patches/node-rdkafka-produce-spans.patch), against the
 * real broker: a run of messages sliced from one buffer goes to librdkafka in one call, each with its
 * own key, timestamp and opaque, and a run stops at the first message librdkafka refuses.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { CODES, Producer, type ProducerGlobalConfig } from 'node-rdkafka';
import { BATCHED_DELIVERY_REPORTS, onDeliveryReports } from '../../src/sinks/kafka-delivery-reports';
import { produceRun, type SpannedMessages } from '../../src/sinks/kafka-produce-spans';
import { readAll } from '../helpers/kafka-consumer';
import { connectedProducer, createTopic, disconnectProducer as disconnect, kafkaFixture, tag } from './support';

/** Five ints per message, the spans from the second: a stride and an offset unlike the wire format's. */
const STRIDE = 5;

interface Message {
  value: string;
  key: string | null;
  timestamp: number;
}

/** The parts of a MessageBatch that produceRun reads, laid out as TaskDelivery lays them out. */
function spansBatch(messages: readonly Message[]): SpannedMessages {
  const texts: string[] = [];
  const fields = new Int32Array(messages.length * STRIDE + 1).fill(-7);
  let offset = 0;
  messages.forEach((m, i) => {
    const at = 1 + i * STRIDE;
    fields[at] = offset;
    offset += Buffer.byteLength(m.value);
    fields[at + 1] = offset;
    fields[at + 2] = m.key === null ? -1 : offset;
    if (m.key !== null) offset += Buffer.byteLength(m.key);
    fields[at + 3] = m.key === null ? 0 : offset;
    texts.push(m.value, m.key ?? '');
  });
  return {
    payload: Buffer.from(texts.join('')),
    spans: fields.subarray(1),
    spanStride: STRIDE,
    timestamps: Float64Array.from(messages, (m) => m.timestamp),
  };
}

const MESSAGES: Message[] = [
  { value: 'not in the run', key: null, timestamp: 1_700_000_000_000 },
  { value: '{"n":1,"text":"naïve ✓"}', key: '{"id":1}', timestamp: 1_700_000_000_001 },
  { value: '{"n":2}', key: null, timestamp: 1_700_000_000_002 },
  { value: '', key: '', timestamp: 1_700_000_000_003 },
  { value: 'not in the run either', key: 'k', timestamp: 1_700_000_000_004 },
];

/** A connected producer with batched delivery reports, which produceSpans' opaques are made for. */
function connected(conf: Record<string, unknown>): Promise<Producer> {
  return connectedProducer({ ...BATCHED_DELIVERY_REPORTS, ...conf });
}

/** Collects reported opaques until `count` have come, and any errors among them. */
function reports(producer: Producer, count: number): Promise<{ opaques: unknown[]; failed: number }> {
  const opaques: unknown[] = [];
  let failed = 0;
  return new Promise((resolve) => {
    onDeliveryReports(producer, (errors, batch) => {
      failed += errors?.filter((err) => err !== undefined).length ?? 0;
      opaques.push(...batch);
      if (opaques.length >= count) resolve({ opaques, failed });
    });
  });
}

describe('node-rdkafka, patched: produceSpans', { timeout: 60_000 }, () => {
  const kafka = kafkaFixture();

  it('produces a run sliced from one buffer, with its keys, timestamps and consecutive opaques', async () => {
    const topic = `test.spans.${tag()}`;
    await createTopic(kafka.bootstrap, topic);
    const producer = await connected({ 'bootstrap.servers': kafka.bootstrap });
    try {
      const reported = reports(producer, 3);
      const outcome = produceRun(producer, topic, spansBatch(MESSAGES), 1, 3, 2 ** 30 - 1);
      assert.deepEqual(outcome, { produced: 3, error: null });
      const { opaques, failed } = await reported;
      assert.equal(failed, 0);
      // The first opaque is the ledger's last before its wrap: the ones after count on past it.
      assert.deepEqual([...opaques].sort(), [2 ** 30 - 1, 2 ** 30, 2 ** 30 + 1]);
    } finally {
      await disconnect(producer);
    }
    const records = await readAll(kafka.bootstrap, topic, { expect: 3 });
    assert.deepEqual(
      records.map((r) => [r.value.toString(), r.key?.toString() ?? null, r.timestamp]),
      MESSAGES.slice(1, 4).map((m) => [m.value, m.key, m.timestamp]),
    );
  });

  it('stops at a span outside the payload: the messages before it go, none from it on', async () => {
    const topic = `test.spans.${tag()}.bad`;
    await createTopic(kafka.bootstrap, topic);
    const batch = spansBatch(MESSAGES);
    batch.spans[2 * STRIDE + 1] = batch.payload.length + 1; // message 2's value ends past the payload
    const producer = await connected({ 'bootstrap.servers': kafka.bootstrap });
    try {
      const reported = reports(producer, 2);
      const outcome = produceRun(producer, topic, batch, 0, 4, 10);
      assert.equal(outcome.produced, 2);
      assert.equal(outcome.error?.code, CODES.ERRORS.ERR__INVALID_ARG);
      assert.deepEqual(produceRun(producer, topic, batch, 3, 1, 13), { produced: 1, error: null });
      const { opaques, failed } = await reported;
      assert.equal(failed, 0);
      assert.deepEqual([...opaques].sort(), [10, 11, 13]);
    } finally {
      await disconnect(producer);
    }
    const records = await readAll(kafka.bootstrap, topic, { expect: 3 });
    assert.deepEqual(
      records.map((r) => r.value.toString()),
      [MESSAGES[0]!.value, MESSAGES[1]!.value, MESSAGES[3]!.value],
    );
  });

  it("stops where librdkafka's queue is full and says so", async () => {
    const topic = `test.spans.${tag()}.full`;
    await createTopic(kafka.bootstrap, topic);
    // A long linger keeps the three queued messages queued while the run asks for a fourth slot.
    const producer = await connected({ 'bootstrap.servers': kafka.bootstrap, 'queue.buffering.max.messages': 3, 'linger.ms': 2_000 });
    try {
      const reported = reports(producer, 3);
      const outcome = produceRun(producer, topic, spansBatch(MESSAGES), 0, 5, 0);
      assert.equal(outcome.produced, 3);
      assert.equal(outcome.error?.code, CODES.ERRORS.ERR__QUEUE_FULL);
      assert.deepEqual([...(await reported).opaques].sort(), [0, 1, 2]);
    } finally {
      await disconnect(producer);
    }
  });

  it('refuses a run that reaches past its spans or timestamps', async () => {
    const producer = await connected({ 'bootstrap.servers': kafka.bootstrap });
    try {
      const batch = spansBatch(MESSAGES);
      assert.throws(() => produceRun(producer, 'unused', batch, 3, 3, 0), RangeError);
      assert.throws(() => produceRun(producer, 'unused', { ...batch, timestamps: batch.timestamps.subarray(0, 2) }, 0, 3, 0), RangeError);
    } finally {
      await disconnect(producer);
    }
  });

  it('refuses a run on a producer that is not connected with ERR__STATE, as a value, not a throw', async () => {
    const batch = spansBatch(MESSAGES);
    const neverConnected = new Producer({ 'bootstrap.servers': kafka.bootstrap, ...BATCHED_DELIVERY_REPORTS } as ProducerGlobalConfig);
    const outcome = produceRun(neverConnected, 'unused', batch, 0, 2, 0);
    assert.equal(outcome.produced, 0);
    assert.equal(outcome.error?.code, CODES.ERRORS.ERR__STATE);
    const producer = await connected({ 'bootstrap.servers': kafka.bootstrap });
    await disconnect(producer);
    assert.equal(produceRun(producer, 'unused', batch, 0, 2, 0).error?.code, CODES.ERRORS.ERR__STATE);
  });
});
