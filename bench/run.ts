// `npm run bench`: drives the uWS HTTP ceiling, Sluice with the null sink, and Sluice with the kafka sink
// (guaranteed and hasty, against a broker the bench starts itself) with the same wrk load in one run, and
// prints events/s and latency with each Sluice as a ratio of the ceiling, kafka / null sink and
// hasty / guaranteed, and how many acknowledged events really reached the Kafka topic.
//
// Options: --quick (shorter runs), --targets ceiling,sluice,kafka,kafka-hasty (which servers; all by default).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeAllBodies, type BodiesFile } from './bodies';
import { comparisons, formatTable, kafkaShortfall, overCeiling, writeReport, type BenchReport, type Measurement } from './report';
import { onInterrupt, stopChildrenOnSignal } from './children';
import { startBroker, TopicCounter, type LocalBroker } from './kafka';
import { cpuBusyShare, freePort, processUsage, startCeiling, startSluice, stopServer, type ProcessUsage, type RunningServer } from './targets';
import { ensureWrk, runWrk, wrkVersion, type WrkSettings } from './wrk';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const WRK_SCRIPT = path.join(REPO_ROOT, 'bench', 'wrk', 'post.lua');
const NULL_CONFIG = 'bench/config/null.yaml';
const KAFKA_CONFIG = 'bench/config/kafka.yaml';
/** The topic of stream test.event (no topic_prefix), which every bench body goes to, hasty or not. */
const KAFKA_TOPIC = 'test.event';
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

// One wrk thread: on the 2-core machine the other core is the server's (Sluice's workers share it).
const WRK_THREADS = 1;
const CONNECTIONS = 100;

const TARGETS = ['ceiling', 'sluice', 'kafka', 'kafka-hasty'] as const;
type Target = (typeof TARGETS)[number];

interface TargetSpec {
  /** The status an accepted request gets: hasty requests are answered 202 on receipt. */
  expectedStatus: number;
  /** Needs the bench's own Kafka broker. */
  kafka: boolean;
  /** Events per request it is measured with: the Kafka targets only with 50, to keep the run bounded. */
  eventsPerRequest: readonly number[];
}

const SPECS: Record<Target, TargetSpec> = {
  ceiling: { expectedStatus: 201, kafka: false, eventsPerRequest: [1, 50] },
  sluice: { expectedStatus: 201, kafka: false, eventsPerRequest: [1, 50] },
  kafka: { expectedStatus: 201, kafka: true, eventsPerRequest: [50] },
  'kafka-hasty': { expectedStatus: 202, kafka: true, eventsPerRequest: [50] },
};

/** The bench's broker and its topic counter, once a Kafka target needed them. */
interface KafkaSetup {
  broker: LocalBroker;
  counter: TopicCounter;
  partitions: number[];
}

interface Options {
  mode: 'quick' | 'default';
  warmupSeconds: number;
  measureSeconds: number;
  targets: Target[];
}

function usage(): never {
  console.error(`usage: npm run bench [-- --quick] [--targets ${TARGETS.join(',')}]`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  let quick = false;
  let targets: Target[] = [...TARGETS];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--targets' && argv[i + 1]) targets = parseTargets(argv[++i]);
    else if (arg.startsWith('--targets=')) targets = parseTargets(arg.slice('--targets='.length));
    else usage();
  }
  return quick
    ? { mode: 'quick', warmupSeconds: 5, measureSeconds: 10, targets }
    : { mode: 'default', warmupSeconds: 5, measureSeconds: 20, targets };
}

function parseTargets(list: string): Target[] {
  const names = [...new Set(list.split(',').filter(Boolean))];
  if (names.length === 0 || names.some((name) => !(TARGETS as readonly string[]).includes(name))) usage();
  return names as Target[];
}

async function startTarget(target: Target, kafka: KafkaSetup | null): Promise<RunningServer> {
  const port = await freePort();
  switch (target) {
    case 'ceiling':
      return startCeiling(__dirname, REPO_ROOT, port);
    case 'sluice':
      return startSluice(REPO_ROOT, port, NULL_CONFIG);
    case 'kafka':
    case 'kafka-hasty':
      if (!kafka) throw new Error(`${target} needs the bench's Kafka broker, which is not running`);
      return startSluice(REPO_ROOT, port, KAFKA_CONFIG, {
        target,
        env: { SLUICE_KAFKA__BOOTSTRAP_SERVERS: kafka.broker.bootstrap },
        query: target === 'kafka-hasty' ? 'hasty=true' : undefined,
      });
  }
}

/** One real request first: if the server refuses the body, the load figures would be meaningless. */
async function checkAccepts(server: RunningServer, bodies: BodiesFile, expectedStatus: number): Promise<void> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: bodies.sampleBody,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== expectedStatus) {
    throw new Error(`${server.target} answered ${response.status} (expected ${expectedStatus}) to a ${bodies.workload.name} body: ${text.slice(0, 2000)}`);
  }
}

/**
 * True when Sluice's /metrics shows no request bytes in flight (hasty ones count until processed) and no
 * message waiting for the sink: then the topic count is final. A server too busy to answer is not idle.
 */
async function sluiceIdle(server: RunningServer): Promise<boolean> {
  try {
    const response = await fetch(`${new URL(server.url).origin}/metrics`, { signal: AbortSignal.timeout(2_000) });
    const text = await response.text();
    const gauge = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    return response.status === 200 && gauge('sluice_inflight_bytes') === 0 && gauge('sluice_sink_queue_messages') === 0;
  } catch {
    return false;
  }
}

async function measure(server: RunningServer, spec: TargetSpec, bodies: BodiesFile, options: Options, kafka: KafkaSetup | null): Promise<Measurement> {
  const settings = (durationSeconds: number): WrkSettings => ({
    threads: WRK_THREADS,
    connections: CONNECTIONS,
    durationSeconds,
    script: WRK_SCRIPT,
    bodiesFile: bodies.file,
    url: server.url,
  });
  await checkAccepts(server, bodies, spec.expectedStatus);
  console.log(`  ${server.target} · ${bodies.workload.name}: warm-up ${options.warmupSeconds} s, measure ${options.measureSeconds} s`);
  await runWrk(settings(options.warmupSeconds));
  const pid = server.child.pid;
  const noop = (): void => undefined;
  const idle = (): Promise<boolean> => sluiceIdle(server);
  // Kafka: the count before is taken once the warm-up's events (hasty ones come after their 202) are in.
  const settleStart = Date.now();
  const countBefore = kafka ? await kafka.counter.settle(KAFKA_TOPIC, kafka.partitions, idle, noop) : null;
  const settleSeconds = (Date.now() - settleStart) / 1000;
  if (settleSeconds > 3) console.log(`    (waited ${settleSeconds.toFixed(1)} s for the warm-up's work to settle before measuring)`);
  const before = processUsage(pid);
  const brokerPid = kafka?.broker.pid ?? undefined;
  const brokerBefore = kafka ? processUsage(brokerPid) : null;
  const wrk = await runWrk(settings(options.measureSeconds));
  let after: ProcessUsage | null = processUsage(pid);
  let brokerAfter: ProcessUsage | null = null;
  // ... and the count after once the topic stops growing; the CPU time is the one when it last grew,
  // so a hasty run's produce work after its 202s is counted too.
  const drainStart = Date.now();
  const countAfter = kafka
    ? await kafka.counter.settle(KAFKA_TOPIC, kafka.partitions, idle, () => {
        after = processUsage(pid);
        brokerAfter = processUsage(brokerPid);
      })
    : null;
  const drainWaitSeconds = (Date.now() - drainStart) / 1000;
  if (drainWaitSeconds > 3) console.log(`    (waited ${drainWaitSeconds.toFixed(1)} s after the measured run until Sluice had nothing in flight)`);
  const events = wrk.requests * bodies.workload.eventsPerRequest;
  const socketErrors = Object.values(wrk.socketErrors).reduce((sum, count) => sum + count, 0);
  const measurement: Measurement = {
    target: server.target,
    workload: bodies.workload.name,
    eventsPerRequest: bodies.workload.eventsPerRequest,
    meanBodyBytes: bodies.meanBodyBytes,
    // Only answered-2xx requests count: a fast 503 is not throughput.
    requestsPerSecond: (wrk.requests - wrk.non2xx) / wrk.durationSeconds,
    eventsPerSecond: ((wrk.requests - wrk.non2xx) / wrk.durationSeconds) * bodies.workload.eventsPerRequest,
    latencyMs: wrk.latencyMs,
    non2xx: wrk.non2xx,
    socketErrors,
    cpuMicrosPerEvent: before && after && events > 0 ? ((after.cpuSeconds - before.cpuSeconds) * 1e6) / events : null,
    peakRssMiB: after ? after.peakRssBytes / 2 ** 20 : null,
    requests: wrk.requests,
    wrkReport: wrk.report,
  };
  if (countBefore && countAfter) {
    const producedEvents = countAfter.total - countBefore.total;
    const drainSeconds = countAfter.lastChangeAfterMs / 1000;
    const acknowledgedEvents = (wrk.requests - wrk.non2xx) * bodies.workload.eventsPerRequest;
    const brokerCpu = brokerBefore && brokerAfter ? (brokerAfter as ProcessUsage).cpuSeconds - brokerBefore.cpuSeconds : null;
    measurement.kafka = {
      topic: KAFKA_TOPIC,
      status: spec.expectedStatus,
      acknowledgedEvents,
      producedEvents,
      // Either count taken while Sluice was still busy makes the delta uncertain.
      settled: countBefore.settled && countAfter.settled,
      drainSeconds,
      producedPerSecond: producedEvents / (wrk.durationSeconds + drainSeconds),
      brokerCpuMicrosPerEvent: brokerCpu !== null && producedEvents > 0 ? (brokerCpu * 1e6) / producedEvents : null,
    };
  }
  return measurement;
}

function loud(message: string): void {
  const bar = '!'.repeat(100);
  console.error(`\n${bar}\n${message}\n${bar}\n`);
}

async function benchTarget(target: Target, allBodies: BodiesFile[], options: Options, report: BenchReport, kafka: KafkaSetup | null): Promise<void> {
  const spec = SPECS[target];
  let server: RunningServer;
  try {
    server = await startTarget(target, kafka);
  } catch (error) {
    report.failures.push({ target, error: String(error instanceof Error ? error.message : error) });
    loud(`${target} FAILED TO START — no figures for it:\n${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  try {
    for (const bodies of allBodies) {
      if (spec.eventsPerRequest.includes(bodies.workload.eventsPerRequest)) await benchWorkload(server, spec, bodies, options, report, kafka);
    }
  } finally {
    await stopServer(server);
  }
}

async function benchWorkload(server: RunningServer, spec: TargetSpec, bodies: BodiesFile, options: Options, report: BenchReport, kafka: KafkaSetup | null): Promise<void> {
  try {
    const measurement = await measure(server, spec, bodies, options, kafka);
    report.measurements.push(measurement);
    if (measurement.requests === 0) {
      loud(`${server.target} · ${bodies.workload.name}: NO request was answered during the ${options.measureSeconds} s measured run — the server stalled; the server's last output:\n${server.output.text()}`);
    }
    if (measurement.non2xx > 0) {
      loud(`${server.target} · ${bodies.workload.name}: ${measurement.non2xx} of ${measurement.requests} responses were 4xx/5xx (overload answers 503 at once): requests/s and events/s count only the 2xx ones, and the latency percentiles mix both`);
    }
    const k = measurement.kafka;
    if (k && kafkaShortfall(measurement)) {
      loud(
        `${server.target} · ${bodies.workload.name}: ${k.acknowledgedEvents} events acknowledged (${k.status}) but ${k.producedEvents} reached topic ${k.topic}` +
          `${k.settled ? '' : ' (and Sluice was still busy at the time limit, so that count is uncertain)'} — its figures are MEANINGLESS; the server's last output:\n${server.output.text()}`,
      );
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    report.failures.push({ target: server.target, workload: bodies.workload.name, error: message });
    loud(`${server.target} · ${bodies.workload.name} FAILED — no figures for it:\n${message}`);
  }
}

function gitCommit(): string {
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

function newReport(options: Options, cpuBusyBeforeStart: number | null): BenchReport {
  return {
    startedAt: new Date().toISOString(),
    mode: options.mode,
    settings: { threads: WRK_THREADS, connections: CONNECTIONS, warmupSeconds: options.warmupSeconds, measureSeconds: options.measureSeconds },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      wrk: wrkVersion(),
      commit: gitCommit(),
      cpuBusyBeforeStart,
    },
    measurements: [],
    ratios: [],
    comparisons: [],
    failures: [],
  };
}

/** Above this share of all CPUs busy just before the bench, something else competes for them. */
const BUSY_CPU_SHARE = 0.2;

function printSummary(report: BenchReport, resultsFile: string): void {
  const busy = report.machine.cpuBusyBeforeStart;
  if (busy !== null && busy > BUSY_CPU_SHARE) {
    loud(`the machine was busy when the bench started (${(busy * 100).toFixed(0)} % of the CPUs in use by other processes): these figures are low and noisy`);
  }
  console.log(`\nwrk -t${WRK_THREADS} -c${CONNECTIONS}, ${report.settings.measureSeconds} s measured after ${report.settings.warmupSeconds} s warm-up; ${report.machine.cpus} CPUs, node ${report.machine.node}\n`);
  console.log(report.measurements.length ? formatTable(report) : '(no measurements)');
  for (const failure of report.failures) {
    console.error(`\nFAILED ${failure.target}${failure.workload ? ` · ${failure.workload}` : ''}: ${failure.error.split(/; its last output|\n/)[0]}`);
  }
  console.log(`\nresults: ${path.relative(REPO_ROOT, resultsFile)}`);
}

function isClean(report: BenchReport): boolean {
  return report.failures.length === 0 && report.measurements.every((m) => m.requests > 0 && m.non2xx === 0 && !kafkaShortfall(m));
}

/** Starts the bench's own broker and makes sure the topic exists before any Sluice produces to it. */
async function startKafka(report: BenchReport): Promise<KafkaSetup> {
  console.log('kafka: starting the bench\'s own broker (scripts/kafka-local start; the first run resolves the jars with Maven)');
  const broker = await startBroker(REPO_ROOT);
  try {
    const counter = await TopicCounter.connect(broker.bootstrap);
    try {
      const partitions = await counter.partitions(KAFKA_TOPIC);
      console.log(`kafka: broker on ${broker.bootstrap}, topic ${KAFKA_TOPIC} with ${partitions.length} partition(s)`);
      report.kafka = { bootstrap: broker.bootstrap, topic: KAFKA_TOPIC, config: KAFKA_CONFIG };
      return { broker, counter, partitions };
    } catch (error) {
      await counter.disconnect();
      throw error;
    }
  } catch (error) {
    broker.stop();
    throw error;
  }
}

async function stopKafka(kafka: KafkaSetup): Promise<void> {
  await kafka.counter.disconnect();
  console.log(`kafka: stopping the bench's broker on ${kafka.broker.bootstrap}`);
  kafka.broker.stop();
}

async function benchAll(options: Options, allBodies: BodiesFile[], report: BenchReport): Promise<void> {
  let kafka: KafkaSetup | null = null;
  let kafkaError: string | null = null;
  try {
    for (const target of options.targets) {
      if (SPECS[target].kafka && !kafka && kafkaError === null) {
        try {
          kafka = await startKafka(report);
        } catch (error) {
          kafkaError = `the bench's Kafka broker did not start: ${error instanceof Error ? error.message : String(error)}`;
        }
      }
      if (SPECS[target].kafka && !kafka) {
        report.failures.push({ target, error: kafkaError ?? 'no Kafka broker' });
        loud(`${target} FAILED TO START — no figures for it:\n${kafkaError}`);
        continue;
      }
      await benchTarget(target, allBodies, options, report, SPECS[target].kafka ? kafka : null);
      // The broker goes as soon as no Kafka target is left to run (by default they come last).
      if (kafka && !options.targets.slice(options.targets.indexOf(target) + 1).some((t) => SPECS[t].kafka)) {
        await stopKafka(kafka);
        kafka = null;
      }
    }
  } finally {
    if (kafka) await stopKafka(kafka);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  stopChildrenOnSignal();
  ensureWrk();
  const report = newReport(options, await cpuBusyShare(1000));
  const bodiesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  const removeBodies = (): void => fs.rmSync(bodiesDir, { recursive: true, force: true });
  onInterrupt(removeBodies);
  try {
    const allBodies = writeAllBodies(bodiesDir);
    for (const bodies of allBodies) {
      console.log(`bodies: ${bodies.workload.name}, ${bodies.bodies} distinct, ${bodies.meanBodyBytes} bytes mean`);
    }
    await benchAll(options, allBodies, report);
  } finally {
    removeBodies();
  }
  report.ratios = overCeiling(report.measurements);
  report.comparisons = comparisons(report.measurements);
  const resultsFile = writeReport(RESULTS_DIR, report);
  printSummary(report, resultsFile);
  if (!isClean(report)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
