/**
 * Sluice's patch to node-rdkafka (scripts/patches/node-rdkafka-batched-delivery-reports.patch), against
 * the real broker. With `dr_batch_cb`, every message is reported exactly once with its own opaque, in
 * batches of at most 100; a failed message's report carries librdkafka's error code. A producer without
 * the option still gets node-rdkafka's own report per message.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { CODES, type LibrdKafkaError, type Producer } from 'node-rdkafka';
import { BATCHED_DELIVERY_REPORTS, onDeliveryReports } from '../../src/sinks/kafka-delivery-reports';
import { countRecords, readAll } from '../helpers/kafka-consumer';
import { connectedProducer as connected, createTopic, disconnectProducer as disconnect, kafkaFixture, tag } from './support';

const MESSAGES = 2000;
const FLUSH_MAX = 100;

interface Batch {
  errors: ReadonlyArray<LibrdKafkaError | undefined> | null;
  opaques: readonly unknown[];
}

/** Produces `count` messages with opaques 0…count-1 and collects the batches until all are reported. */
async function produceBatched(producer: Producer, topic: string, count: number): Promise<Batch[]> {
  const batches: Batch[] = [];
  let reported = 0;
  const done = new Promise<void>((resolve) => {
    onDeliveryReports(producer, (errors, opaques) => {
      batches.push({ errors, opaques });
      reported += opaques.length;
      if (reported >= count) resolve();
    });
  });
  for (let i = 0; i < count; i++) producer.produce(topic, null, Buffer.from(`message ${i}`), null, Date.now(), i);
  await done;
  return batches;
}

describe('node-rdkafka, patched: delivery reports in batches', { timeout: 60_000 }, () => {
  const kafka = kafkaFixture();

  it('reports every delivered message once, with its opaque, in batches of at most 100', async () => {
    const topic = `test.reports.${tag()}`;
    await createTopic(kafka.bootstrap, topic);
    const producer = await connected({ 'bootstrap.servers': kafka.bootstrap, ...BATCHED_DELIVERY_REPORTS });
    try {
      const batches = await produceBatched(producer, topic, MESSAGES);
      const opaques = batches.flatMap((b) => b.opaques);
      assert.deepEqual([...opaques].sort((a, b) => (a as number) - (b as number)), Array.from({ length: MESSAGES }, (_, i) => i));
      assert.deepEqual(batches.filter((b) => b.errors !== null), []);
      assert.ok(batches.every((b) => b.opaques.length >= 1 && b.opaques.length <= FLUSH_MAX), `batch sizes: ${batches.map((b) => b.opaques.length).join(',')}`);
      assert.ok(batches.length < MESSAGES / 10, `${MESSAGES} reports came in ${batches.length} calls`);
    } finally {
      await disconnect(producer);
    }
    assert.equal(await countRecords(kafka.bootstrap, topic), MESSAGES);
  });

  it("reports a failed message's error, with librdkafka's code, at its opaque's index", async () => {
    const absent = `test.reports.${tag()}.absent`;
    const producer = await connected({ 'bootstrap.servers': kafka.bootstrap, 'allow.auto.create.topics': false, 'message.timeout.ms': 1500, ...BATCHED_DELIVERY_REPORTS });
    try {
      const batches = await produceBatched(producer, absent, 5);
      const failures = batches.flatMap((b) => b.opaques.map((opaque, i) => ({ opaque, code: b.errors?.[i]?.code, message: b.errors?.[i]?.message })));
      assert.deepEqual(
        failures.sort((a, b) => (a.opaque as number) - (b.opaque as number)).map((f) => [f.opaque, f.code]),
        [0, 1, 2, 3, 4].map((i) => [i, CODES.ERRORS.ERR_UNKNOWN_TOPIC_OR_PART]),
      );
      assert.ok(failures.every((f) => /unknown topic or partition/i.test(f.message ?? '')), failures.map((f) => f.message).join(' | '));
    } finally {
      await disconnect(producer);
    }
  });

  it('delivers each message as produced and gives back any opaque, number or not', async () => {
    // uint32 opaques take the patch's lean produce path (the number rides in the opaque pointer); other
    // opaques, and a string key, take node-rdkafka's own path. Both must keep the message intact.
    const topic = `test.reports.${tag()}.opaques`;
    await createTopic(kafka.bootstrap, topic);
    const objectOpaque = { name: 'an object' };
    const sent: Array<{ value: string; key: Buffer | string | null; opaque: unknown }> = [
      { value: 'v0', key: Buffer.from('k0'), opaque: 0 },
      { value: 'v1', key: null, opaque: 2 ** 32 - 1 },
      { value: 'v2', key: 'k2', opaque: objectOpaque },
      { value: 'v3', key: Buffer.from('k3'), opaque: 'text' },
      { value: 'v4', key: null, opaque: -1 },
      { value: 'v5', key: null, opaque: undefined },
    ];
    const timestamp = (i: number): number => 1_700_000_000_000 + i;
    const producer = await connected({ 'bootstrap.servers': kafka.bootstrap, ...BATCHED_DELIVERY_REPORTS });
    const opaques: unknown[] = [];
    const errors: Array<LibrdKafkaError | undefined> = [];
    try {
      const done = new Promise<void>((resolve) => {
        onDeliveryReports(producer, (batchErrors, batch) => {
          if (batchErrors) errors.push(...batchErrors);
          opaques.push(...batch);
          if (opaques.length === sent.length) resolve();
        });
      });
      sent.forEach((m, i) => producer.produce(topic, null, Buffer.from(m.value), m.key, timestamp(i), m.opaque));
      await done;
    } finally {
      await disconnect(producer);
    }
    assert.deepEqual(errors.filter((err) => err !== undefined), []);
    assert.deepEqual(new Set(opaques), new Set(sent.map((m) => m.opaque)));
    assert.ok(opaques.includes(objectOpaque), 'the object opaque comes back as the same object');
    const records = await readAll(kafka.bootstrap, topic, { expect: sent.length });
    assert.deepEqual(
      records.map((r) => [r.value.toString(), r.key?.toString() ?? null, r.timestamp]),
      sent.map((m, i) => [m.value, m.key?.toString() ?? null, timestamp(i)]),
    );
  });

  it('still reports each message on its own to a producer without the option', async () => {
    const topic = `test.reports.${tag()}.each`;
    await createTopic(kafka.bootstrap, topic);
    const producer = await connected({ 'bootstrap.servers': kafka.bootstrap, dr_cb: true });
    try {
      const opaques: unknown[] = [];
      const done = new Promise<void>((resolve, reject) => {
        producer.on('delivery-report', (err, report) => {
          if (err) reject(err);
          opaques.push(report.opaque);
          if (opaques.length === 50) resolve();
        });
      });
      for (let i = 0; i < 50; i++) producer.produce(topic, null, Buffer.from(`message ${i}`), null, Date.now(), i);
      await done;
      assert.deepEqual([...opaques].sort((a, b) => (a as number) - (b as number)), Array.from({ length: 50 }, (_, i) => i));
    } finally {
      await disconnect(producer);
    }
  });
});
