// The real-Kafka part of the bench: a broker of its own, started with scripts/kafka-local and a state
// file unique to this bench run (so it never touches a broker someone else started, nor theirs ours),
// stopped at the end and on Ctrl-C; and a small node-rdkafka client that reads the topic's high
// watermarks, so the bench can say how many events really reached Kafka, not only how many were answered.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Rdkafka from 'node-rdkafka';
import { onInterrupt } from './children';
import { sleep } from './targets';

/** kafka-local's own readiness wait is 90 s; the first start also resolves the jars with Maven. */
const BROKER_START_TIMEOUT_MS = 240_000;
const BROKER_STOP_TIMEOUT_MS = 60_000;

export interface LocalBroker {
  bootstrap: string;
  /** The broker's JVM, from kafka-local's state file (for its CPU time); null if it cannot be read. */
  pid: number | null;
  /** Idempotent and synchronous, so the interrupt handler can call it too. */
  stop(): void;
}

/**
 * `scripts/kafka-local start` with KAFKA_LOCAL_STATE in a temp dir of this run; resolves with the
 * bootstrap address it prints. Its progress lines (stderr) are shown indented.
 */
export async function startBroker(repoRoot: string): Promise<LocalBroker> {
  const script = path.join(repoRoot, 'scripts', 'kafka-local');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-kafka-'));
  const env = { ...process.env, KAFKA_LOCAL_STATE: path.join(stateDir, 'kafka-local.state') };
  let starter: ChildProcess | null = null;
  let stopped = false;

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    // A start still under way gets SIGTERM (never SIGKILL: its trap stops the broker it launched);
    // `stop` then waits on kafka-local's lock until that start has given up.
    if (starter && starter.exitCode === null && starter.signalCode === null) starter.kill('SIGTERM');
    const result = spawnSync(script, ['stop'], { cwd: repoRoot, env, encoding: 'utf8', timeout: BROKER_STOP_TIMEOUT_MS, stdio: ['ignore', 'ignore', 'pipe'] });
    if (result.status !== 0) {
      console.error(`  kafka-local stop failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr ?? ''}\n  state file: ${env.KAFKA_LOCAL_STATE}`);
      return; // keep the state file: `KAFKA_LOCAL_STATE=<it> scripts/kafka-local stop` by hand
    }
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  onInterrupt(stop);

  const bootstrap = await new Promise<string>((resolve, reject) => {
    const child = spawn(script, ['start'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    starter = child;
    let stdout = '';
    const progress: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        progress.push(line);
        console.log(`    ${line}`);
      }
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), BROKER_START_TIMEOUT_MS);
    child.on('error', (error) => reject(new Error(`cannot run ${script}: ${error.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const address = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && /^[\w.-]+:\d+$/.test(address)) return resolve(address);
      const how = code !== null ? `exit code ${code}` : `signal ${signal}`;
      reject(new Error(`scripts/kafka-local start failed (${how}); its last output:\n${progress.slice(-30).map((l) => `    | ${l}`).join('\n')}`));
    });
  }).catch((error: unknown) => {
    stop();
    throw error;
  });
  return { bootstrap, pid: brokerPid(env.KAFKA_LOCAL_STATE), stop };
}

function brokerPid(stateFile: string): number | null {
  try {
    const pid = Number(/^PID=(\d+)$/m.exec(fs.readFileSync(stateFile, 'utf8'))?.[1]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Where a topic's message count settled after a run, and how long after the call it last moved. */
export interface SettledCount {
  total: number;
  /** False when the count was still moving, or the server still busy, at the time limit. */
  settled: boolean;
  /** ms from the call to the last change seen (0 when it never moved). */
  lastChangeAfterMs: number;
}

/**
 * Counts the messages in a topic as the sum of its partitions' high watermarks (offsets are dense for
 * an idempotent, non-transactional producer, so deltas are message counts), with a short-lived
 * node-rdkafka Producer used only for metadata and watermark queries.
 */
export class TopicCounter {
  private constructor(private readonly client: Rdkafka.Producer) {}

  static async connect(bootstrap: string): Promise<TopicCounter> {
    // Loaded here, so that a bench without Kafka targets never loads librdkafka.
    const rdkafka = require('node-rdkafka') as typeof Rdkafka;
    const client = new rdkafka.Producer({ 'bootstrap.servers': bootstrap, 'client.id': 'sluice-bench-counter', 'allow.auto.create.topics': true } as Rdkafka.ProducerGlobalConfig);
    await new Promise<void>((resolve, reject) =>
      client.connect({ timeout: 10_000 }, (err) => (err ? reject(new Error(`bench Kafka client cannot connect to ${bootstrap}: ${err.message}`)) : resolve())),
    );
    return new TopicCounter(client);
  }

  /** Partitions of `topic`, asking for it (which auto-creates it on kafka-local's broker) until it has leaders. */
  async partitions(topic: string, timeoutMs = 20_000): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      try {
        const metadata = await new Promise<Rdkafka.Metadata>((resolve, reject) =>
          this.client.getMetadata({ topic, timeout: 5_000 }, (err, data) => (err ? reject(err) : resolve(data))),
        );
        const found = metadata.topics.find((t) => t.name === topic);
        if (found && found.partitions.length > 0 && found.partitions.every((p) => p.leader >= 0)) {
          return found.partitions.map((p) => p.id).sort((a, b) => a - b);
        }
        last = found ? `${found.partitions.length} partitions, not all with a leader` : 'topic not in metadata';
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      await sleep(250);
    }
    throw new Error(`topic ${topic} did not get ready within ${timeoutMs / 1000} s (${last})`);
  }

  async count(topic: string, partitions: number[]): Promise<number> {
    const highs = await Promise.all(
      partitions.map(
        (partition) =>
          new Promise<number>((resolve, reject) =>
            this.client.queryWatermarkOffsets(topic, partition, 5_000, (err, offsets) => (err ? reject(err) : resolve(offsets.highOffset))),
          ),
      ),
    );
    return highs.reduce((sum, high) => sum + high, 0);
  }

  /**
   * Polls the count until it has not moved for `quietMs` and `isIdle` says the producer has nothing left
   * in flight (or `timeoutMs` passed). `onChange` runs at the first reading and at every change, so the
   * caller can note the server's CPU time when the work ended.
   */
  async settle(
    topic: string,
    partitions: number[],
    isIdle: () => Promise<boolean>,
    onChange: () => void,
    quietMs = 1_000,
    timeoutMs = 45_000,
    pollMs = 100,
  ): Promise<SettledCount> {
    const start = Date.now();
    let total = await this.count(topic, partitions);
    onChange();
    let lastChange = start;
    for (;;) {
      if (Date.now() - lastChange >= quietMs && (await isIdle())) break;
      if (Date.now() - start > timeoutMs) return { total, settled: false, lastChangeAfterMs: lastChange - start };
      await sleep(pollMs);
      const now = await this.count(topic, partitions);
      if (now !== total) {
        total = now;
        lastChange = Date.now();
        onChange();
      }
    }
    return { total, settled: true, lastChangeAfterMs: lastChange - start };
  }

  disconnect(): Promise<void> {
    return new Promise((resolve) => this.client.disconnect(5_000, () => resolve()));
  }
}
