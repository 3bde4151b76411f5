import { after, before } from 'node:test';
/**
 * Shared pieces of the real-Kafka tests (issue 3): the broker address, a Sluice process with the
 * kafka sink and its own uniquely named streams/topics, a load generator that records every request's
 * fate, and the checks that tie HTTP answers to what the topic holds.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { AdminClient, Producer, type ProducerGlobalConfig } from 'node-rdkafka';
import { startKafka, stopKafka } from '../helpers/kafka';
import { postEvents, request, type Resp } from '../helpers/http';
import { deepMerge, startSluice, writeYaml, makeTempDir, sleep, waitFor, type Json, type Sluice } from '../helpers/server';
import { jsonValues, readAll, type KafkaRecord } from '../helpers/kafka-consumer';
import { stopPollingThenDisconnect } from '../../src/sinks/kafka-sink';

/** Re-exported: the Kafka and EventStreams tests take it from here with the rest of their support. */
export { waitFor };

/**
 * The broker's bootstrap address. `npm test` exports SLUICE_TEST_KAFKA; when a file runs on its own
 * the broker is started here (or a running one reused), and `releaseKafka()` stops it again.
 */
export async function kafkaBootstrap(): Promise<string> {
  const fromEnv = process.env.SLUICE_TEST_KAFKA;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const bootstrap = await startKafka();
  if (!/^[\w.-]+:\d+$/.test(bootstrap)) throw new Error(`SLUICE_TEST_KAFKA is unset and startKafka() gave no bootstrap address: ${bootstrap}`);
  process.env.SLUICE_TEST_KAFKA = bootstrap;
  return bootstrap;
}

/** Stops the broker only if kafkaBootstrap() started it in this process. */
export async function releaseKafka(): Promise<void> {
  await stopKafka();
}

export interface KafkaSluice {
  sluice: Sluice;
  url: string;
  bootstrap: string;
  /** Stream (= topic) names, unique to this instance. */
  plain: string;
  keyed: string;
  error: string;
  serviceName: string;
}

/**
 * The broker and the Sluices one describe block starts: registers before/after hooks, so every
 * Sluice is stopped and the broker released after the block.
 */
export function kafkaFixture(): { readonly bootstrap: string; start(opts?: KafkaSluiceOptions): Promise<KafkaSluice> } {
  let bootstrap = '';
  const running: KafkaSluice[] = [];
  before(async () => {
    bootstrap = await kafkaBootstrap();
  });
  after(async () => {
    await Promise.all(running.map((k) => k.sluice.stop()));
    await releaseKafka();
  });
  return {
    get bootstrap() {
      return bootstrap;
    },
    async start(opts?: KafkaSluiceOptions) {
      const k = await startKafkaSluice(bootstrap, opts);
      running.push(k);
      return k;
    },
  };
}

export interface KafkaSluiceOptions {
  deliveryTimeoutMs?: number;
  /** Deep-merged over the generated config; a function gets the generated stream names first. */
  config?: Record<string, unknown> | ((streams: { plain: string; keyed: string; error: string }) => Record<string, unknown>);
  /** More stream configs (name → settings) beside the generated ones. */
  streams?: Record<string, unknown>;
  startTimeoutMs?: number;
}

/** A short random tag for names: Kafka topic names allow [a-zA-Z0-9._-]. */
export function tag(): string {
  return randomBytes(5).toString('hex');
}

/**
 * Starts `sluice serve` with the kafka sink pointed at `bootstrap`, and a stream config of its own:
 * `test.kafka.<tag>.plain` (test/event, no key), `test.kafka.<tag>.keyed` (test/event, key {"t": test})
 * and `test.kafka.<tag>.error` (the error stream). Topic = stream name (no prefix).
 */
export async function startKafkaSluice(bootstrap: string, opts: KafkaSluiceOptions = {}): Promise<KafkaSluice> {
  const t = tag();
  const plain = `test.kafka.${t}.plain`;
  const keyed = `test.kafka.${t}.keyed`;
  const error = `test.kafka.${t}.error`;
  const serviceName = `sluice-kt-${t}`;
  const streamsFile = writeYaml(path.join(makeTempDir('sluice-kafka-streams-'), 'streams.yaml'), {
    [plain]: { schema_title: 'test/event' },
    [keyed]: { schema_title: 'test/event', message_key_fields: { t: 'test' } },
    [error]: { schema_title: 'error' },
    ...opts.streams,
  });
  const sluice = await startSluice({
    startTimeoutMs: opts.startTimeoutMs ?? 30_000,
    config: deepMerge({
      service_name: serviceName,
      streams: { config: `file:${streamsFile}`, topic_prefix: '' },
      error_stream: error,
      sink: {
        type: 'kafka',
        file: undefined,
        kafka: {
          conf: { 'bootstrap.servers': bootstrap },
          delivery_timeout_ms: opts.deliveryTimeoutMs ?? 10_000,
        },
      },
      test_events: [{ $schema: '/test/event/1.0.0', meta: { stream: plain }, test: 'readiness probe' }],
    }, typeof opts.config === 'function' ? opts.config({ plain, keyed, error }) : (opts.config ?? {})),
  });
  return { sluice, url: sluice.url, bootstrap, plain, keyed, error, serviceName };
}

/** Creates a topic with one partition, as an operator would where brokers do not auto-create them. */
export async function createTopic(bootstrap: string, topic: string): Promise<void> {
  const admin = AdminClient.create({ 'bootstrap.servers': bootstrap });
  try {
    await new Promise<void>((resolve, reject) => {
      admin.createTopic({ topic, num_partitions: 1, replication_factor: 1 }, 10_000, (err) => (err ? reject(new Error(`create topic ${topic}: ${err.message}`)) : resolve()));
    });
  } finally {
    admin.disconnect();
  }
}

/** A bare node-rdkafka producer (acks=all, 5 ms linger unless `conf` says otherwise), connected and polled. */
export async function connectedProducer(conf: Record<string, unknown>): Promise<Producer> {
  const producer = new Producer({ 'linger.ms': 5, ...conf } as ProducerGlobalConfig, { acks: -1 });
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  producer.setPollInterval(1);
  return producer;
}

export async function disconnectProducer(producer: Producer): Promise<void> {
  await new Promise<void>((resolve) => stopPollingThenDisconnect(producer, resolve));
}

/** GET /readyz: status and parsed body. Connection failures read as status 0. */
export async function readyz(url: string): Promise<{ status: number; body: Json; text: string }> {
  try {
    const r = await request(url, '/readyz', { timeoutMs: 5000 });
    return { status: r.status, body: r.body, text: r.text };
  } catch (err) {
    return { status: 0, body: undefined, text: (err as Error).message };
  }
}

/** Waits for /readyz to answer `status`; returns the answer. */
export async function waitForReady(url: string, status: 200 | 503, timeoutMs: number): Promise<{ status: number; body: Json; text: string }> {
  const r = await waitFor(`/readyz ${status}`, timeoutMs, async () => {
    const answer = await readyz(url);
    return answer.status === status ? answer : null;
  });
  return r!;
}

/** A valid test/event; `test` is the marker the test finds it by (and the keyed stream's key). */
export function markedEvent(stream: string, marker: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Json {
  return { $schema: '/test/event/1.0.0', meta: { stream, ...meta }, test: marker, ...extra };
}

// ------------------------------------------------------------------------------------------------
// Load
// ------------------------------------------------------------------------------------------------

export interface Attempt {
  client: number;
  hasty: boolean;
  markers: string[];
  startedAt: number;
  endedAt: number;
  /** HTTP status, or 0 when the request failed without an answer (connection refused/reset). */
  status: number;
  retryAfter?: string;
  resp?: Resp;
  failure?: string;
}

export interface LoadOptions {
  stream: string;
  concurrency: number;
  eventsPerRequest: number;
  /** Share of requests sent hasty (0..1), chosen deterministically per client. */
  hastyClients?: number;
  /** Pause after a request that got no 2xx, so a refused load does not spin. */
  backoffMs?: number;
  requestTimeoutMs?: number;
}

/** Concurrent clients POSTing marked events in a loop until stop(); every attempt is recorded. */
export class Load {
  readonly attempts: Attempt[] = [];
  private stopping = false;
  private readonly runId = tag();
  private readonly clients: Promise<void>[];

  constructor(
    private readonly url: string,
    private readonly opts: LoadOptions,
  ) {
    this.clients = Array.from({ length: opts.concurrency }, (_, n) => this.client(n));
  }

  private async client(n: number): Promise<void> {
    const hastyCount = Math.round((this.opts.hastyClients ?? 0) * this.opts.concurrency);
    const hasty = n < hastyCount;
    for (let i = 0; !this.stopping; i++) {
      const markers = Array.from({ length: this.opts.eventsPerRequest }, (_, e) => `${this.runId}-c${n}-r${i}-e${e}`);
      const events = markers.map((m) => markedEvent(this.opts.stream, m));
      const a: Attempt = { client: n, hasty, markers, startedAt: Date.now(), endedAt: 0, status: 0 };
      this.attempts.push(a);
      try {
        const r = await postEvents(this.url, events, {
          query: hasty ? 'hasty=true' : undefined,
          headers: { 'x-request-id': randomUUID() },
          timeoutMs: this.opts.requestTimeoutMs ?? 30_000,
        });
        a.status = r.status;
        a.resp = r;
        if (typeof r.headers['retry-after'] === 'string') a.retryAfter = r.headers['retry-after'];
      } catch (err) {
        a.failure = (err as Error).message;
      }
      a.endedAt = Date.now();
      if (a.status < 200 || a.status >= 300) await sleep(this.opts.backoffMs ?? 20);
    }
  }

  /**
   * Resolves once `n` attempts started at or after `since` were answered 2xx (fails after the
   * timeout); `mode` counts only guaranteed or only hasty ones.
   */
  async waitForSuccesses(n: number, timeoutMs: number, since = Date.now(), mode?: 'guaranteed' | 'hasty'): Promise<void> {
    const counts = (a: Attempt) => mode === undefined || a.hasty === (mode === 'hasty');
    await waitFor(`${n} successful ${mode ?? ''} requests`, timeoutMs, () => this.attempts.filter((a) => a.startedAt >= since && counts(a) && isSuccess(a)).length >= n, 25);
  }

  /** Stops issuing requests and waits for the ones in flight to be answered. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.clients);
  }
}

export function isSuccess(a: Attempt): boolean {
  return a.status >= 200 && a.status < 300;
}

/**
 * The markers whose events Sluice acknowledged: all of a 201/202 request; for a 207, all but those
 * echoed in its `error` (and `invalid`) lists.
 */
export function acknowledgedMarkers(a: Attempt): string[] {
  if (a.status === 201 || a.status === 202) return a.markers;
  if (a.status === 207) {
    const body = a.resp?.body as Json;
    const refused = new Set<string>([...(body?.error ?? []), ...(body?.invalid ?? [])].map((e: Json) => e?.event?.test));
    return a.markers.filter((m) => !refused.has(m));
  }
  return [];
}

/** `test` marker → how many records of the topic carry it. */
export function markerCounts(records: readonly KafkaRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of jsonValues(records)) counts.set(v.test, (counts.get(v.test) ?? 0) + 1);
  return counts;
}

export interface DeliveryCheck {
  acked: number;
  found: number;
  missing: string[];
  duplicated: string[];
  records: KafkaRecord[];
}

/** Reads the topic and checks each acknowledged marker against it. */
export async function checkAcknowledged(bootstrap: string, topic: string, acked: readonly string[], timeoutMs = 30_000): Promise<DeliveryCheck> {
  const records = await readAll(bootstrap, topic, { expect: acked.length, timeoutMs });
  const counts = markerCounts(records);
  const missing = acked.filter((m) => !counts.has(m));
  const duplicated = acked.filter((m) => (counts.get(m) ?? 0) > 1);
  return { acked: acked.length, found: acked.length - missing.length, missing, duplicated, records };
}

export function summarize(attempts: readonly Attempt[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of attempts) {
    const k = a.status === 0 ? 'no answer' : String(a.status);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
