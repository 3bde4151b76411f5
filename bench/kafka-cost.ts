// What node-rdkafka alone costs per message, with Sluice's guaranteed producer settings and nothing
// else in the process: produce every message (~250 bytes, distinct, sliced from one buffer per run of
// 500 as from a worker's result), take every delivery report, and report the CPU per message of this
// process and of the broker. The process's share is split by thread: the main JS thread (producing and
// the delivery reports: in Sluice, that runs on the HTTP thread), librdkafka's own threads (batching,
// lz4, sockets), and the rest.
// With Sluice's own per-event cost (the null sink), this bounds what Kafka guaranteed can reach on two
// cores shared with the broker.
//
// Usage: node dist/bench/kafka-cost.js [messages] [linger.ms] [spans|batched|each]   (defaults
// 1 000 000, 1 and spans: Sluice's guaranteed settings and its produceSpans() per run, from its
// patches to node-rdkafka). `batched`: a produce() per message (the first patch's lean path) with
// reports in batches, what Sluice did before produceSpans; `each`: node-rdkafka's own produce() path
// and a report per message, what Sluice did before its patches. Starts the bench's own broker, like
// npm run bench.

import * as path from 'node:path';
import type * as Rdkafka from 'node-rdkafka';
import { BATCHED_DELIVERY_REPORTS, onDeliveryReports } from '../src/sinks/kafka-delivery-reports';
import { produceRun } from '../src/sinks/kafka-produce-spans';
import { stopPollingThenDisconnect } from '../src/sinks/kafka-sink';
import { stopChildrenOnSignal } from './children';
import { startBroker, TopicCounter } from './kafka';
import { cpuByThread, processUsage, threadCpuSeconds, type ThreadCpu } from './targets';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TOPIC = 'bench.kafka-cost';
/** Kept below librdkafka's queue (Sluice sets queue.buffering.max.messages 100 000). */
const IN_FLIGHT = 50_000;
/** Messages are produced again once this many have been reported. */
const REFILL = 1_000;

type Mode = 'spans' | 'batched' | 'each';
const MODES: readonly Mode[] = ['spans', 'batched', 'each'];

/** Messages per run: one worker task's worth at 50 events per request. */
const RUN = 500;

/**
 * RUN distinct ~250-byte messages laid out as a worker result lays them out: one payload, and spans
 * (value start, value end, no key) per message.
 */
class Run {
  readonly payload: Buffer;
  readonly spans = new Int32Array(RUN * 4);
  readonly spanStride = 4;
  readonly timestamps = new Float64Array(RUN);

  constructor(private readonly template: Buffer) {
    this.payload = Buffer.alloc(template.length * RUN);
    for (let m = 0; m < RUN; m++) {
      template.copy(this.payload, m * template.length);
      this.spans.set([m * template.length, (m + 1) * template.length, -1, 0], m * 4);
    }
  }

  /** Rewrites every message's counter (distinct bytes, so compression sees no repeated message). */
  refill(firstNumber: number): void {
    const now = Date.now();
    for (let m = 0; m < RUN; m++) {
      this.payload.writeUInt32BE(firstNumber + m, m * this.template.length + 60);
      this.timestamps[m] = now;
    }
  }
}

async function produceAll(bootstrap: string, messages: number, lingerMs: number, mode: Mode): Promise<{ seconds: number; failed: number; threads: ThreadCpu }> {
  const rdkafka = require('node-rdkafka') as typeof Rdkafka;
  const producer = new rdkafka.Producer(
    { 'bootstrap.servers': bootstrap, 'enable.idempotence': true, 'compression.codec': 'lz4', 'linger.ms': lingerMs, 'queue.buffering.max.messages': 100_000, ...(mode === 'each' ? { dr_cb: true } : BATCHED_DELIVERY_REPORTS) } as Rdkafka.ProducerGlobalConfig,
    { acks: -1 } as Rdkafka.ProducerTopicConfig,
  );
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  producer.setPollInterval(1);
  const template = Buffer.from(JSON.stringify({ $schema: '/test/event/1.0.0', meta: { stream: 'test.event', id: '00000000-0000-4000-8000-000000000000', dt: new Date().toISOString() }, test: 'x'.repeat(120), test_int: 0 }));
  // librdkafka copies each message on produce, so the run's buffer is written over for the next run.
  const run = new Run(template);
  let sent = 0;
  let reported = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    const sendMore = (): void => {
      while (sent < messages && sent - reported < IN_FLIGHT) {
        const count = Math.min(RUN, messages - sent);
        run.refill(sent);
        if (mode === 'spans') {
          const { produced, error } = produceRun(producer, TOPIC, run, 0, count, sent);
          if (produced < count) throw error!;
        } else {
          // Sluice's path before produceSpans: a slice of the payload and a produce() per message.
          for (let m = 0; m < count; m++) producer.produce(TOPIC, null, run.payload.subarray(run.spans[4 * m], run.spans[4 * m + 1]), null, run.timestamps[m], sent + m);
        }
        sent += count;
      }
    };
    const onReports = (count: number, failures: number): void => {
      reported += count;
      failed += failures;
      if (reported === messages) resolve();
      else if (sent - reported <= IN_FLIGHT - REFILL) sendMore();
    };
    if (mode !== 'each') onDeliveryReports(producer, (errors, opaques) => onReports(opaques.length, errors ? errors.filter((err) => err !== undefined).length : 0));
    else producer.on('delivery-report', (err) => onReports(1, err ? 1 : 0));
    sendMore();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const threads = threadCpuSeconds(process.pid)!; // before disconnect() ends librdkafka's threads
  await new Promise<void>((resolve) => stopPollingThenDisconnect(producer, resolve));
  return { seconds, failed, threads };
}

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 1_000_000);
  const lingerMs = Number(process.argv[3] ?? 1);
  const mode = (process.argv[4] ?? 'spans') as Mode;
  if (!MODES.includes(mode)) throw new Error(`mode: ${MODES.join(', ')}; not ${mode}`);
  stopChildrenOnSignal();
  const broker = await startBroker(REPO_ROOT);
  try {
    const counter = await TopicCounter.connect(broker.bootstrap);
    const partitions = await counter.partitions(TOPIC);
    const before = await counter.count(TOPIC, partitions);
    const self = process.cpuUsage();
    const threadsBefore = threadCpuSeconds(process.pid)!; // this process: always there
    const brokerBefore = processUsage(broker.pid ?? undefined);
    const { seconds, failed, threads } = await produceAll(broker.bootstrap, messages, lingerMs, mode);
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
          mode,
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
