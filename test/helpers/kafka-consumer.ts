/**
 * Reading a topic back from a real Kafka broker (node-rdkafka), for integration tests.
 *
 * Every call uses a fresh consumer with its own group id and no committed offsets: it assigns all
 * partitions of the topic explicitly (no group rebalance to wait for), reads from the low watermark
 * up to the high watermark it saw, and disconnects. So a read returns exactly what the topic held at
 * that moment — duplicates included, which is what exactly-once assertions need.
 */
import { randomUUID } from 'node:crypto';
import { KafkaConsumer, type LibrdKafkaError, type Message } from 'node-rdkafka';

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer;
  /** The record's timestamp (ms since the epoch). */
  timestamp: number;
}

export interface ReadOptions {
  /** Wait (up to timeoutMs) until the topic holds at least this many records before reading. */
  expect?: number;
  /** Overall bound for waiting and reading; default 20 000 ms. */
  timeoutMs?: number;
}

interface Watermark {
  partition: number;
  low: number;
  high: number;
}

const POLL_MS = 100;
const REQUEST_TIMEOUT_MS = 5000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function newConsumer(bootstrap: string): KafkaConsumer {
  return new KafkaConsumer(
    {
      'bootstrap.servers': bootstrap,
      'group.id': `sluice-test-${randomUUID()}`,
      'enable.auto.commit': false,
      'allow.auto.create.topics': false,
      // Reads are short-lived: keep reconnect backoff and socket timeouts small.
      'reconnect.backoff.ms': 50,
      'reconnect.backoff.max.ms': 500,
      'socket.timeout.ms': REQUEST_TIMEOUT_MS,
      'fetch.wait.max.ms': 50,
    },
    { 'auto.offset.reset': 'earliest' },
  );
}

function connect(consumer: KafkaConsumer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    consumer.connect({ timeout: timeoutMs }, (err: LibrdKafkaError | null) => (err ? reject(new Error(`kafka consumer connect: ${err.message}`)) : resolve()));
  });
}

function disconnect(consumer: KafkaConsumer): Promise<void> {
  return new Promise((resolve) => {
    if (!consumer.isConnected()) return resolve();
    consumer.disconnect(() => resolve());
  });
}

/** Partition ids of the topic; [] while it does not exist (or metadata fails). */
function partitionsOf(consumer: KafkaConsumer, topic: string): Promise<number[]> {
  return new Promise((resolve) => {
    consumer.getMetadata({ topic, timeout: REQUEST_TIMEOUT_MS }, (err, data) => {
      if (err || !data) return resolve([]);
      const t = data.topics.find((x) => x.name === topic);
      resolve(t ? t.partitions.map((p) => p.id).sort((a, b) => a - b) : []);
    });
  });
}

function watermark(consumer: KafkaConsumer, topic: string, partition: number): Promise<Watermark | null> {
  return new Promise((resolve) => {
    consumer.queryWatermarkOffsets(topic, partition, REQUEST_TIMEOUT_MS, (err, offsets) => {
      if (err || !offsets) return resolve(null);
      resolve({ partition, low: offsets.lowOffset, high: offsets.highOffset });
    });
  });
}

/** Watermarks of every partition, or null when the topic is missing or a query failed. */
async function watermarks(consumer: KafkaConsumer, topic: string): Promise<Watermark[] | null> {
  const partitions = await partitionsOf(consumer, topic);
  if (partitions.length === 0) return null;
  const marks = await Promise.all(partitions.map((p) => watermark(consumer, topic, p)));
  return marks.some((m) => m === null) ? null : (marks as Watermark[]);
}

function total(marks: Watermark[] | null): number {
  return marks === null ? 0 : marks.reduce((sum, m) => sum + (m.high - m.low), 0);
}

/** How many records the topic holds now (0 when it does not exist). */
export async function countRecords(bootstrap: string, topic: string): Promise<number> {
  const consumer = newConsumer(bootstrap);
  await connect(consumer, REQUEST_TIMEOUT_MS);
  try {
    return total(await watermarks(consumer, topic));
  } finally {
    await disconnect(consumer);
  }
}

/**
 * Polls the topic's record count until it is at least `atLeast` or the timeout passes; returns the
 * last count seen (the caller asserts on it).
 */
export async function waitForCount(bootstrap: string, topic: string, atLeast: number, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const consumer = newConsumer(bootstrap);
  await connect(consumer, Math.min(REQUEST_TIMEOUT_MS, timeoutMs));
  try {
    for (;;) {
      const n = total(await watermarks(consumer, topic));
      if (n >= atLeast || Date.now() >= deadline) return n;
      await sleep(POLL_MS);
    }
  } finally {
    await disconnect(consumer);
  }
}

function consumeBatch(consumer: KafkaConsumer, max: number): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    consumer.consume(max, (err, messages) => (err ? reject(new Error(`kafka consume: ${err.message}`)) : resolve(messages)));
  });
}

function toRecord(m: Message): KafkaRecord {
  const key = m.key === null || m.key === undefined ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key);
  return { topic: m.topic, partition: m.partition, offset: m.offset, key, value: m.value ?? Buffer.alloc(0), timestamp: m.timestamp ?? -1 };
}

/**
 * Every record of the topic, in partition then offset order. With `expect`, first waits until the
 * topic holds that many records (or the timeout passes: then it returns what is there). A topic that
 * never appears reads as []. Throws only when the records the watermarks promised cannot be read
 * before the deadline.
 */
export async function readAll(bootstrap: string, topic: string, opts: ReadOptions = {}): Promise<KafkaRecord[]> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  const consumer = newConsumer(bootstrap);
  await connect(consumer, Math.min(REQUEST_TIMEOUT_MS, timeoutMs));
  try {
    let marks = await watermarks(consumer, topic);
    while (total(marks) < (opts.expect ?? 0) && Date.now() < deadline) {
      await sleep(POLL_MS);
      marks = await watermarks(consumer, topic);
    }
    if (marks === null) return [];
    const pending = marks.filter((m) => m.high > m.low);
    if (pending.length === 0) return [];

    const byPartition = new Map<number, KafkaRecord[]>(pending.map((m) => [m.partition, []]));
    const until = new Map(pending.map((m) => [m.partition, m.high]));
    consumer.setDefaultConsumeTimeout(POLL_MS);
    consumer.assign(pending.map((m) => ({ topic, partition: m.partition, offset: m.low })));
    while (until.size > 0) {
      if (Date.now() >= deadline) {
        const missing = [...until].map(([p, high]) => `partition ${p}: read ${byPartition.get(p)!.length}, up to offset ${high}`).join('; ');
        throw new Error(`readAll(${topic}): timed out after ${timeoutMs} ms before reaching the high watermark (${missing})`);
      }
      for (const m of await consumeBatch(consumer, 1000)) {
        const high = until.get(m.partition);
        if (m.topic !== topic || high === undefined || m.offset >= high) continue;
        byPartition.get(m.partition)!.push(toRecord(m));
        if (m.offset >= high - 1) until.delete(m.partition);
      }
    }
    consumer.unassign();
    return [...byPartition.keys()].sort((a, b) => a - b).flatMap((p) => byPartition.get(p)!);
  } finally {
    await disconnect(consumer);
  }
}

/** Parses each record's value as JSON (throws, naming the offset, on one that is not). */
export function jsonValues(records: readonly KafkaRecord[]): any[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return records.map((r) => {
    try {
      return JSON.parse(r.value.toString('utf8'));
    } catch {
      throw new Error(`${r.topic}/${r.partition}@${r.offset}: value is not JSON: ${JSON.stringify(r.value.toString('utf8').slice(0, 200))}`);
    }
  });
}
