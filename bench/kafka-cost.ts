// What node-rdkafka alone costs per message, with Sluice's guaranteed producer settings and nothing
// else in the process: produce() every message (~250 bytes, distinct), take every delivery report, and
// report the CPU per message of this process and of the broker. The process's share is split by thread:
// the main JS thread (produce() and the delivery reports, which with Sluice's patch take its lean
// produce() path and reach JS in batches: in Sluice, that runs on the HTTP thread), librdkafka's own
// threads (batching, lz4, sockets), and the rest.
// With Sluice's own per-event cost (the null sink), this bounds what Kafka guaranteed can reach on two
// cores shared with the broker.
//
// Usage: node dist/bench/kafka-cost.js [messages] [linger.ms] [batched|each]   (defaults 1 000 000,
// 1 and batched: Sluice's guaranteed settings; `each` is node-rdkafka's own report per message and
// its own produce() path, what Sluice used before its patch). Starts the bench's own broker, like
// npm run bench.

import * as path from 'node:path';
import type * as Rdkafka from 'node-rdkafka';
import { BATCHED_DELIVERY_REPORTS, onDeliveryReports } from '../src/sinks/kafka-delivery-reports';
import { stopChildrenOnSignal } from './children';
import { startBroker, TopicCounter } from './kafka';
import { cpuByThread, processUsage, threadCpuSeconds, type ThreadCpu } from './targets';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TOPIC = 'bench.kafka-cost';
/** Kept below librdkafka's queue (Sluice sets queue.buffering.max.messages 100 000). */
const IN_FLIGHT = 50_000;
/** Messages are produced again once this many have been reported. */
const REFILL = 1_000;

type Reports = 'batched' | 'each';

async function produceAll(bootstrap: string, messages: number, lingerMs: number, reports: Reports): Promise<{ seconds: number; failed: number; threads: ThreadCpu }> {
  const rdkafka = require('node-rdkafka') as typeof Rdkafka;
  const producer = new rdkafka.Producer(
    { 'bootstrap.servers': bootstrap, 'enable.idempotence': true, 'compression.codec': 'lz4', 'linger.ms': lingerMs, 'queue.buffering.max.messages': 100_000, ...(reports === 'batched' ? BATCHED_DELIVERY_REPORTS : { dr_cb: true }) } as Rdkafka.ProducerGlobalConfig,
    { acks: -1 } as Rdkafka.ProducerTopicConfig,
  );
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  producer.setPollInterval(1);
  const template = Buffer.from(JSON.stringify({ $schema: '/test/event/1.0.0', meta: { stream: 'test.event', id: '00000000-0000-4000-8000-000000000000', dt: new Date().toISOString() }, test: 'x'.repeat(120), test_int: 0 }));
  let sent = 0;
  let reported = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const sendMore = (): void => {
      while (sent < messages && sent - reported < IN_FLIGHT) {
        const value = Buffer.from(template);
        value.writeUInt32BE(sent, 60); // distinct bytes, so compression sees no repeated message
        producer.produce(TOPIC, null, value, null, Date.now(), sent);
        sent++;
      }
    };
    const onReports = (count: number, failures: number): void => {
      reported += count;
      failed += failures;
      if (reported === messages) resolve();
      else if (sent - reported <= IN_FLIGHT - REFILL) sendMore();
    };
    if (reports === 'batched') onDeliveryReports(producer, (errors, opaques) => onReports(opaques.length, errors ? errors.filter((err) => err !== undefined).length : 0));
    else producer.on('delivery-report', (err) => onReports(1, err ? 1 : 0));
    sendMore();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const threads = threadCpuSeconds(process.pid)!; // before disconnect() ends librdkafka's threads
  await new Promise<void>((resolve) => producer.disconnect(5_000, () => resolve()));
  return { seconds, failed, threads };
}

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 1_000_000);
  const lingerMs = Number(process.argv[3] ?? 1);
  const reports = (process.argv[4] ?? 'batched') as Reports;
  if (reports !== 'batched' && reports !== 'each') throw new Error(`reports: batched or each, not ${reports}`);
  stopChildrenOnSignal();
  const broker = await startBroker(REPO_ROOT);
  try {
    const counter = await TopicCounter.connect(broker.bootstrap);
    const partitions = await counter.partitions(TOPIC);
    const before = await counter.count(TOPIC, partitions);
    const self = process.cpuUsage();
    const threadsBefore = threadCpuSeconds(process.pid)!; // this process: always there
    const brokerBefore = processUsage(broker.pid ?? undefined);
    const { seconds, failed, threads } = await produceAll(broker.bootstrap, messages, lingerMs, reports);
    const used = process.cpuUsage(self);
    const byThread = cpuByThread(process.pid, threadsBefore, threads);
    const brokerAfter = processUsage(broker.pid ?? undefined);
    const inTopic = (await counter.count(TOPIC, partitions)) - before;
    await counter.disconnect();
    const perMessage = (microseconds: number): number => Math.round((microseconds / messages) * 100) / 100;
    console.log(
      JSON.stringify(
        {
          messages,
          linger_ms: lingerMs,
          reports,
          in_topic: inTopic,
          failed,
          seconds: Math.round(seconds * 100) / 100,
          messages_per_second: Math.round(messages / seconds),
          client_cpu_us_per_message: perMessage(used.user + used.system),
          client_cpu_us_per_message_by_thread: { main: perMessage(byThread.main * 1e6), librdkafka: perMessage(byThread.librdkafka * 1e6), other: perMessage(byThread.other * 1e6) },
          broker_cpu_us_per_message: brokerBefore && brokerAfter ? perMessage((brokerAfter.cpuSeconds - brokerBefore.cpuSeconds) * 1e6) : null,
        },
        null,
        2,
      ),
    );
  } finally {
    broker.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
