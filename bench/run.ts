// `npm run bench`: in one run and with the same wrk load, the uWS HTTP ceiling, a naive node:http + Ajv
// gateway, and Sluice with the null, file and real-Kafka sinks (guaranteed and hasty, against a broker the
// bench starts itself), over the workloads of bench/plan.ts; each case is warmed up, then measured several
// times and reported as the median, with ratios to the naive gateway and the ceiling, fixed-rate
// latency-under-load runs, the worker-thread scaling, how many acknowledged events really reached Kafka,
// and issue 6's targets.
//
// Options: --quick (the one-minute version), --targets a,b (only those servers' cases).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { WORKLOADS, writeBodies, type BodiesFile, type WorkloadId } from './bodies';
import { onInterrupt, stopChildrenOnSignal } from './children';
import { damonReading, describeDamon, runningDamonMonitors } from './damon';
import { checkTargets, P99_TARGET_MS } from './goals';
import { startBroker, TopicCounter, type LocalBroker } from './kafka';
import { caseLabel, expectedStatus, KAFKA_CONFIG, makePlan, targetNames, type Case, type Plan, type Rotation, type TargetSpec } from './plan';
import { commandLine, computeRatios, findClosed, formatTable, kafkaShortfall, measureUndisturbed, percent, summarize, summarizeRotation, worseStolen, writeReport, type BenchReport, type CpuWait, type KafkaDelivery, type RotationRound, type Run } from './report';
import { checkAccepts, cpuBusyShare, cpuByThread, cpuTicks, freePort, idleShare, metricValue, scrapeMetrics, processUsage, resetPeakRss, sampleSluice, startScriptServer, startSluice, stealShare, stopServer, taskStageMeans, threadCpuSeconds, withStolenShare, type CpuTicks, type ProcessUsage, type RunningServer, type SluiceSample, type ThreadCpu } from './targets';
import { bucketDelta, quantileBound, shareAbove } from './histogram';
import { answeredPerSecond, ensureLoadGenerators, loadSettings, runLoad, type LoadResult, type LoadSettings } from './load';
import { OPEN_LOOP_GENERATOR } from './openloop';
import { WRK_THREADS, wrkVersion } from './wrk';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** The topic of stream test.event (no topic_prefix), which every Kafka case's bodies go to, hasty or not. */
const KAFKA_TOPIC = 'test.event';
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');
/** Above this share of all CPUs busy just before the bench, something else competes for them. */
const BUSY_CPU_SHARE = 0.2;

/** The bench's broker and its topic counter, once a Kafka target needed them. */
interface KafkaSetup {
  broker: LocalBroker;
  counter: TopicCounter;
  partitions: number[];
}

interface Bench {
  plan: Plan;
  report: BenchReport;
  bodies: Map<WorkloadId, BodiesFile>;
  scratch: string;
  /** Open-loop peak arrival rates found so far, by target, workload and connections. */
  openLoopPeaks: Map<string, number>;
}

function usage(): never {
  console.error(`usage: npm run bench [-- --quick] [--targets ${targetNames().join(',')}]`);
  process.exit(2);
}

function parseOptions(argv: string[]): { quick: boolean; only: string[] | null } {
  let quick = false;
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--targets' && argv[i + 1]) only = argv[++i].split(',').filter(Boolean);
    else if (arg.startsWith('--targets=')) only = arg.slice('--targets='.length).split(',').filter(Boolean);
    else usage();
  }
  if (only && (only.length === 0 || only.some((name) => !targetNames().includes(name)))) usage();
  return { quick, only };
}

function loud(message: string): void {
  const bar = '!'.repeat(100);
  console.error(`\n${bar}\n${message}\n${bar}\n`);
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function startTarget(target: TargetSpec, bench: Bench, kafka: KafkaSetup | null): Promise<RunningServer> {
  const port = await freePort();
  if (target.kind === 'ceiling') return startScriptServer('ceiling', path.join(__dirname, 'ceiling.js'), [], REPO_ROOT, port);
  if (target.kind === 'bare-split') return startScriptServer('bare-split', path.join(__dirname, 'bare-split.js'), [], REPO_ROOT, port);
  if (target.kind === 'naive') return startScriptServer('naive', path.join(__dirname, 'naive.js'), [path.join(bench.scratch, 'naive.jsonl')], REPO_ROOT, port);
  const env: NodeJS.ProcessEnv = { ...target.env, SLUICE_SINK_FILE_DIR: path.join(bench.scratch, `${target.name}-sink`) };
  if (target.kafka) {
    if (!kafka) throw new Error(`${target.name} needs the bench's Kafka broker, which is not running`);
    env.SLUICE_KAFKA__BOOTSTRAP_SERVERS = kafka.broker.bootstrap;
  }
  return startSluice(REPO_ROOT, port, target.config!, { target: target.name, env, query: target.query });
}

/**
 * True when Sluice's /metrics shows no request bytes in flight (hasty ones count until processed) and no
 * message waiting for the sink: then the topic count is final. A server too busy to answer is not idle.
 */
async function sluiceIdle(server: RunningServer): Promise<boolean> {
  const text = await scrapeMetrics(server);
  return text !== null && metricValue(text, 'sluice_inflight_bytes') === 0 && metricValue(text, 'sluice_sink_queue_messages') === 0;
}

/** Seconds of the open-loop run that finds a server's peak arrival rate. */
const PEAK_PROBE_SECONDS = 5;

/**
 * Requests/s of an open-loop case: its share of a peak measured earlier in this run. A server's own
 * peak arrival rate is what it answers when offered its closed-loop rate in an open loop (the open
 * loop's generator needs more CPU per request than wrk's closed loop, on the same two cores, so the
 * closed loop's rate itself may not be sustained). Another target's peak is that open-loop peak if it
 * was probed (the ceiling at sluice's rates), else its closed-loop rate (hasty against guaranteed).
 */
async function offeredRate(c: Case, bench: Bench, probe: (rate: number) => Promise<LoadResult>): Promise<number | null> {
  if (c.load.kind === 'closed') return null;
  const { of, share } = c.load;
  const base = findClosed(bench.report.measurements, of.target, of.workload, of.connections);
  if (!base || base.median.requestsPerSecond <= 0) throw new Error(`needs the closed-loop peak of ${of.target} · ${WORKLOADS[of.workload].name} · ${of.connections} conn, which this run did not measure`);
  const key = `${of.target}|${of.workload}|${of.connections}`;
  let peak = bench.openLoopPeaks.get(key);
  if (of.target !== c.target) return share * (peak ?? base.median.requestsPerSecond);
  if (peak === undefined) {
    peak = answeredPerSecond(await probe(base.median.requestsPerSecond));
    bench.openLoopPeaks.set(key, peak);
    console.log(`  ${caseLabel(c)}: open-loop peak ${Math.round(peak)} req/s answered when offered the closed loop's ${Math.round(base.median.requestsPerSecond)}`);
  }
  return share * peak;
}

/** The open-loop peak probe, run again like a case's runs when the hypervisor stole: a low peak offers the case too low a rate. */
async function probePeak(load: LoadSettings): Promise<LoadResult> {
  const { kept } = await measureUndisturbed(1, () => withStolenShare(() => runLoad(load)), (p) => p.stolen, (p) => {
    console.log(`    peak probe set aside, the hypervisor stole ${percent(p.stolen!)} of the CPU: probing again`);
  });
  return kept[0]!.result;
}

/** What the server's threads and the generator waited for a CPU during a run, per request; null if unknown. */
function cpuWaitPerRequest(pid: number | undefined, before: ThreadCpu | null, after: ThreadCpu | null, load: LoadResult): CpuWait | null {
  if (pid === undefined || !before || !after || load.requests === 0) return null;
  const waited = cpuByThread(pid, before, after, 'waitSeconds');
  const main = waited.main;
  const other = waited.librdkafka + waited.other;
  if (!Number.isFinite(main) || !Number.isFinite(other)) return null; // no schedstat on this kernel
  const generator = load.parts?.generatorRunQueueWaitSeconds ?? null;
  const perRequest = (seconds: number): number => (seconds * 1e6) / load.requests;
  return { main: perRequest(main), other: perRequest(other), generator: generator === null ? null : perRequest(generator) };
}

/**
 * `sampleBefore`/`sampleAfter`: Sluice's /metrics around the run (null for other servers);
 * `ticksBefore`/`ticksAfter`: the machine's CPU ticks around the run (its idle and stolen shares).
 */
function toRun(load: LoadResult, eventsPerRequest: number, before: ProcessUsage | null, after: ProcessUsage | null, sampleBefore: SluiceSample | null, sampleAfter: SluiceSample | null, ticksBefore: CpuTicks | null, ticksAfter: CpuTicks | null, cpuWait: CpuWait | null, damonMsPerSecond: number | null): Run {
  const answered = answeredPerSecond(load);
  const events = load.requests * eventsPerRequest;
  const gcBefore = sampleBefore?.gcSeconds ?? null;
  const gcAfter = sampleAfter?.gcSeconds ?? null;
  const handled = sampleBefore?.intakeLatency && sampleAfter?.intakeLatency ? bucketDelta(sampleBefore.intakeLatency, sampleAfter.intakeLatency) : null;
  const serverP99 = handled ? quantileBound(handled, 0.99) : null;
  return {
    requestsPerSecond: answered,
    eventsPerSecond: answered * eventsPerRequest,
    latencyMs: load.latencyMs,
    requests: load.requests,
    non2xx: load.non2xx,
    socketErrors: Object.values(load.socketErrors).reduce((sum, count) => sum + count, 0),
    cpuMicrosPerEvent: before && after && events > 0 ? ((after.cpuSeconds - before.cpuSeconds) * 1e6) / events : null,
    mainGcMsPerSecond: gcBefore !== null && gcAfter !== null ? ((gcAfter - gcBefore) * 1000) / load.durationSeconds : null,
    serverP99AtMostMs: serverP99 === null ? null : serverP99 * 1000,
    serverShareOver5Ms: handled ? shareAbove(handled, P99_TARGET_MS / 1000) : null,
    sendLagP99Ms: load.parts?.sendLagMs.p99 ?? null,
    inFlightP99Ms: load.parts?.inFlightMs.p99 ?? null,
    connectionsExhaustedShare: load.parts?.connectionsExhaustedShare ?? null,
    taskStageMeanMs: sampleBefore?.taskStages && sampleAfter?.taskStages ? taskStageMeans(sampleBefore.taskStages, sampleAfter.taskStages) : null,
    machineIdleShare: idleShare(ticksBefore, ticksAfter),
    machineStealShare: stealShare(ticksBefore, ticksAfter),
    damonMsPerSecond,
    cpuWaitMicrosPerRequest: cpuWait,
    wrkReport: load.report,
  };
}

async function measureCase(server: RunningServer, target: TargetSpec, c: Case, bench: Bench, kafka: KafkaSetup | null): Promise<void> {
  const { plan, report } = bench;
  const bodies = bench.bodies.get(c.workload)!;
  const caseLoad = (durationSeconds: number, rate: number | null): LoadSettings => loadSettings(server.url, bodies, c.connections, durationSeconds, rate);
  await checkAccepts(server, bodies, expectedStatus(target, c.workload));
  const rate = await offeredRate(c, bench, (probeRate) => probePeak(caseLoad(PEAK_PROBE_SECONDS, probeRate)));
  const settings = (durationSeconds: number): LoadSettings => caseLoad(durationSeconds, rate);
  const peakIsPerCase = resetPeakRss(server.child.pid);
  console.log(`  ${caseLabel(c)}${rate === null ? '' : ` (${Math.round(rate)} req/s)`}: warm-up ${plan.warmupSeconds} s, ${plan.repetitions} × ${plan.measureSeconds} s`);
  await runLoad(settings(plan.warmupSeconds));
  const pid = server.child.pid;
  const idle = (): Promise<boolean> => sluiceIdle(server);
  const sample = (): Promise<SluiceSample | null> => (target.kind === 'sluice' ? sampleSluice(server) : Promise.resolve(null));
  // Kafka: the count before is taken once the warm-up's events (hasty ones come after their 202) are in.
  const countBefore = kafka ? await kafka.counter.settle(KAFKA_TOPIC, kafka.partitions, idle, () => undefined) : null;
  const spanStart = kafkaSpan(pid, kafka);
  const measureOnce = async (): Promise<Run> => {
    // The GC and latency figures come from /metrics scrapes, themselves work for the server: kept
    // outside the CPU window, and on their own route, which the latency figure leaves out.
    const sampleBefore = await sample();
    const before = processUsage(pid);
    const threadsBefore = pid === undefined ? null : threadCpuSeconds(pid);
    const ticksBefore = cpuTicks();
    const damon = damonReading();
    const result = await runLoad(settings(plan.measureSeconds));
    const damonMsPerSecond = damon(result.durationSeconds);
    const ticksAfter = cpuTicks();
    const threadsAfter = pid === undefined ? null : threadCpuSeconds(pid);
    const after = processUsage(pid);
    const cpuWait = cpuWaitPerRequest(pid, threadsBefore, threadsAfter, result);
    return toRun(result, bodies.workload.eventsPerRequest, before, after, sampleBefore, await sample(), ticksBefore, ticksAfter, cpuWait, damonMsPerSecond);
  };
  const { kept: runs, setAside } = await measureUndisturbed(plan.repetitions, measureOnce, (run) => run.machineStealShare, (run) => {
    console.log(`    run set aside, the hypervisor stole ${percent(run.machineStealShare!)} of the CPU: measuring it again`);
  });
  const peakRss = processUsage(pid)?.peakRssBytes;
  const measurement = summarize(c, runs, bodies.meanBodyBytes, rate, peakRss === undefined ? null : peakRss / 2 ** 20, peakIsPerCase, setAside);
  if (kafka && countBefore) {
    // The span's end is when the topic last grew, so a hasty run's produce work after its 202s counts too.
    let spanEnd = kafkaSpan(pid, kafka);
    const countAfter = await kafka.counter.settle(KAFKA_TOPIC, kafka.partitions, idle, () => {
      spanEnd = kafkaSpan(pid, kafka);
    });
    // Events acknowledged in a run set aside are in the topic all the same.
    measurement.kafka = kafkaDelivery(target, countBefore.total, countAfter, measurement.eventsPerRequest, [...runs, ...setAside], pid, spanStart, spanEnd);
  }
  report.measurements.push(measurement);
  warnAbout(measurement, server);
}

type Span = { server: ProcessUsage | null; serverThreads: ThreadCpu | null; broker: ProcessUsage | null };

function kafkaSpan(pid: number | undefined, kafka: KafkaSetup | null): Span {
  const serverThreads = kafka && pid !== undefined ? threadCpuSeconds(pid) : null;
  return { server: processUsage(pid), serverThreads, broker: processUsage(kafka?.broker.pid ?? undefined) };
}

function kafkaDelivery(
  target: TargetSpec,
  before: number,
  after: { total: number; settled: boolean; lastChangeAfterMs: number },
  eventsPerRequest: number,
  runs: Run[],
  pid: number | undefined,
  start: Span,
  end: Span,
): KafkaDelivery {
  const producedEvents = after.total - before;
  const perEvent = (seconds: number): number => (seconds * 1e6) / producedEvents;
  const cpuPerEvent = (a: ProcessUsage | null, b: ProcessUsage | null): number | null => (a && b && producedEvents > 0 ? perEvent(b.cpuSeconds - a.cpuSeconds) : null);
  const byThread = pid !== undefined && start.serverThreads && end.serverThreads && producedEvents > 0 ? cpuByThread(pid, start.serverThreads, end.serverThreads) : null;
  return {
    topic: KAFKA_TOPIC,
    status: target.accepted,
    acknowledgedEvents: runs.reduce((sum, run) => sum + (run.requests - run.non2xx) * eventsPerRequest, 0),
    producedEvents,
    settled: after.settled,
    drainSeconds: after.lastChangeAfterMs / 1000,
    brokerCpuMicrosPerEvent: cpuPerEvent(start.broker, end.broker),
    serverCpuMicrosPerEvent: cpuPerEvent(start.server, end.server),
    serverCpuMicrosPerEventByThread: byThread && { main: perEvent(byThread.main), librdkafka: perEvent(byThread.librdkafka), other: perEvent(byThread.other) },
  };
}

function warnAbout(m: BenchReport['measurements'][number], server: RunningServer): void {
  if (m.requests === 0) loud(`${m.label}: NO request was answered during the measured runs — the server stalled; its last output:\n${server.output.text()}`);
  if (m.non2xx > 0) {
    loud(`${m.label}: ${m.non2xx} of ${m.requests} responses were 4xx/5xx (overload answers 503 at once): requests/s and events/s count only the 2xx ones, and the latency percentiles mix both`);
  }
  const k = m.kafka;
  if (k && kafkaShortfall(m)) {
    loud(`${m.label}: ${k.acknowledgedEvents} events acknowledged (${k.status}) but ${k.producedEvents} reached topic ${k.topic}${k.settled ? '' : ' (Sluice was still busy at the time limit, so that count is uncertain)'} — its figures are MEANINGLESS; the server's last output:\n${server.output.text()}`);
  }
}

async function benchTarget(target: TargetSpec, bench: Bench, kafka: KafkaSetup | null): Promise<void> {
  const cases = bench.plan.cases.filter((c) => c.target === target.name);
  let server: RunningServer;
  try {
    server = await startTarget(target, bench, kafka);
  } catch (error) {
    for (const c of cases) bench.report.failures.push({ label: caseLabel(c), error: errorText(error) });
    loud(`${target.name} FAILED TO START — no figures for it:\n${errorText(error)}`);
    return;
  }
  try {
    for (const c of cases) {
      try {
        await measureCase(server, target, c, bench, kafka);
      } catch (error) {
        bench.report.failures.push({ label: caseLabel(c), error: errorText(error) });
        loud(`${caseLabel(c)} FAILED — no figures for it:\n${errorText(error)}`);
      }
    }
  } finally {
    await stopServer(server);
  }
}

/**
 * The rotation's servers all started, then each measured in turn for `rounds` rounds (closed loop, the
 * plan's run length), so its ratios compare runs seconds apart. An idle server here costs nothing: wrk
 * loads one at a time.
 */
async function measureRotation(rotation: Rotation, bench: Bench): Promise<void> {
  const { plan, report } = bench;
  const bodies = bench.bodies.get(rotation.workload)!;
  const specs = rotation.targets.map((name) => plan.targets.find((t) => t.name === name)!);
  const label = `${rotation.targets.join(' → ')} · ${bodies.workload.name} · ${rotation.connections} conn`;
  const servers: RunningServer[] = [];
  const load = (server: RunningServer, durationSeconds: number): Promise<LoadResult> => runLoad(loadSettings(server.url, bodies, rotation.connections, durationSeconds, null));
  try {
    for (const spec of specs) servers.push(await startTarget(spec, bench, null));
    console.log(`  rotation ${label}: warm-up ${plan.warmupSeconds} s each, ${rotation.rounds} rounds of ${plan.measureSeconds} s each`);
    for (const [i, server] of servers.entries()) {
      await checkAccepts(server, bodies, expectedStatus(specs[i]!, rotation.workload));
      await load(server, plan.warmupSeconds);
    }
    const measureRound = async (): Promise<RotationRound> => {
      const round: RotationRound = { requestsPerSecond: {}, stolen: null };
      for (const [i, server] of servers.entries()) {
        const { result: wrk, stolen } = await withStolenShare(() => load(server, plan.measureSeconds));
        if (wrk.non2xx > 0) throw new Error(`${specs[i]!.name} answered ${wrk.non2xx} of ${wrk.requests} requests with 4xx/5xx`);
        round.requestsPerSecond[specs[i]!.name] = wrk.requests / wrk.durationSeconds;
        round.stolen = worseStolen(round.stolen, stolen);
      }
      return round;
    };
    const { kept, setAside } = await measureUndisturbed(rotation.rounds, measureRound, (round) => round.stolen, (round) => {
      console.log(`    round set aside, the hypervisor stole ${percent(round.stolen!)} of the CPU during one of its runs: measuring it again`);
    });
    report.rotation = summarizeRotation(label, rotation.targets[0]!, kept.map((round) => round.requestsPerSecond), setAside);
  } catch (error) {
    report.failures.push({ label: `rotation ${label}`, error: errorText(error) });
    loud(`rotation ${label} FAILED — no figures for it:\n${errorText(error)}`);
  } finally {
    for (const server of servers) await stopServer(server);
  }
}

/** Starts the bench's own broker and makes sure the topic exists before any Sluice produces to it. */
async function startKafka(report: BenchReport): Promise<KafkaSetup> {
  console.log("kafka: starting the bench's own broker (scripts/kafka-local start; the first run resolves the jars with Maven)");
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

async function benchAll(bench: Bench): Promise<void> {
  const targets = bench.plan.targets;
  let kafka: KafkaSetup | null = null;
  let kafkaError: string | null = null;
  try {
    for (const [index, target] of targets.entries()) {
      if (target.kafka && !kafka && kafkaError === null) {
        try {
          kafka = await startKafka(bench.report);
        } catch (error) {
          kafkaError = `the bench's Kafka broker did not start: ${errorText(error)}`;
        }
      }
      if (target.kafka && !kafka) {
        bench.report.failures.push({ label: target.name, error: kafkaError ?? 'no Kafka broker' });
        loud(`${target.name} FAILED TO START — no figures for it:\n${kafkaError}`);
        continue;
      }
      await benchTarget(target, bench, target.kafka ? kafka : null);
      // The broker goes as soon as no Kafka target is left (they come last).
      if (kafka && !targets.slice(index + 1).some((t) => t.kafka)) {
        await stopKafka(kafka);
        kafka = null;
      }
    }
  } finally {
    if (kafka) await stopKafka(kafka);
  }
}

function gitCommit(): string {
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

function newReport(plan: Plan, argv: string[], cpuBusyBeforeStart: number | null): BenchReport {
  return {
    startedAt: new Date().toISOString(),
    command: commandLine(argv, process.env),
    mode: plan.mode,
    settings: { wrkThreads: WRK_THREADS, openLoopGenerator: OPEN_LOOP_GENERATOR, warmupSeconds: plan.warmupSeconds, measureSeconds: plan.measureSeconds, repetitions: plan.repetitions },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      wrk: wrkVersion(),
      commit: gitCommit(),
      cpuBusyBeforeStart,
      damon: runningDamonMonitors(),
    },
    measurements: [],
    ratios: [],
    targets: [],
    failures: [],
    rotation: null,
  };
}

function printSummary(report: BenchReport, resultsFile: string): void {
  const busy = report.machine.cpuBusyBeforeStart;
  if (busy !== null && busy > BUSY_CPU_SHARE) {
    loud(`the machine was busy when the bench started (${percent(busy, 0)} of the CPUs in use by other processes): these figures are low and noisy`);
  }
  const { settings, machine } = report;
  console.log(
    `\nclosed loops wrk -t${settings.wrkThreads}, open loops ${settings.openLoopGenerator ?? `wrk -t${settings.wrkThreads}`}; median of ${settings.repetitions} × ${settings.measureSeconds} s after ${settings.warmupSeconds} s warm-up; ` +
      `${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, commit ${machine.commit}\n`,
  );
  if (machine.damon?.length) console.log(`the kernel's DAMON: ${describeDamon(machine.damon)}; the ms/s it ran is on the p99 target's line and per run (damonMsPerSecond) in the results\n`);
  console.log(report.measurements.length ? formatTable(report) : '(no measurements)');
  for (const failure of report.failures) console.error(`\nFAILED ${failure.label}: ${failure.error.split(/; its last output|\n/)[0]}`);
  console.log(`\nresults: ${path.relative(REPO_ROOT, resultsFile)}`);
}

/** Exit 0 only when every case ran and counted cleanly; open-loop 503s are a finding, not a failure. */
function isClean(report: BenchReport): boolean {
  return (
    report.failures.length === 0 &&
    report.measurements.every((m) => m.requests > 0 && (m.case.load.kind === 'open' || m.non2xx === 0) && !kafkaShortfall(m))
  );
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const plan = makePlan(options.quick, options.only);
  stopChildrenOnSignal();
  ensureLoadGenerators();
  const report = newReport(plan, argv, await cpuBusyShare(1000));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  const removeScratch = (): void => fs.rmSync(scratch, { recursive: true, force: true });
  onInterrupt(removeScratch);
  try {
    const bodies = new Map<WorkloadId, BodiesFile>();
    for (const id of new Set(plan.cases.map((c) => c.workload))) {
      const written = writeBodies(scratch, WORKLOADS[id]);
      bodies.set(id, written);
      console.log(`bodies: ${written.workload.name}, ${written.bodies} distinct, ${written.meanBodyBytes} bytes mean`);
    }
    const bench: Bench = { plan, report, bodies, scratch, openLoopPeaks: new Map() };
    await benchAll(bench);
    if (plan.rotation) await measureRotation(plan.rotation, bench);
  } finally {
    removeScratch();
  }
  report.ratios = computeRatios(report.measurements);
  report.targets = checkTargets(report.measurements, report.rotation);
  const resultsFile = writeReport(RESULTS_DIR, report);
  printSummary(report, resultsFile);
  if (!isClean(report)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(errorText(error));
  process.exit(1);
});
