// The results of one bench run: the figures of each case (the median of its repetitions), the ratios
// the issue asks for, the table printed at the end, and the JSON kept in bench/results/.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { WORKLOADS, type WorkloadId } from './bodies';
import type { DamonMonitor } from './damon';
import { caseLabel, type Case } from './plan';
import type { LoadResult } from './load';
import { TASK_STAGES, type CpuByThread, type TaskStage } from './targets';

/** One measured run of the load generator. */
export interface Run {
  requestsPerSecond: number;
  /** Events in 2xx-answered requests per second: a fast 503 is not throughput. */
  eventsPerSecond: number;
  latencyMs: LoadResult['latencyMs'];
  requests: number;
  non2xx: number;
  socketErrors: number;
  /** Server CPU (all threads, user + system) per event: equal to CPU seconds per million events. */
  cpuMicrosPerEvent: number | null;
  /**
   * Milliseconds per second the server's main thread spent in GC (Sluice only): it does all the I/O,
   * so its pauses hold up every request (at 7f67630 a full GC every ~80 ms cost it 115 ms/s).
   */
  mainGcMsPerSecond: number | null;
  /**
   * Sluice only, from its own histogram of POST /v1/events (handler start to reply): the bucket bound its
   * p99 is at most, and the share (0..1) of requests it took over 5 ms. Beside wrk's p99 they tell what
   * of the client's tail is Sluice's handling; the rest passed before its handler ran (HTTP thread busy,
   * kernel queues) or after the reply was written, or is the load generator's own delay.
   */
  serverP99AtMostMs: number | null;
  serverShareOver5Ms: number | null;
  /**
   * Open loops only: the p99s of the two parts of an answered request's latency, due to sent (the load
   * generator's lag, for want of a free connection or of a core) and sent to answered (the server's part);
   * and the share (0..1) of the run during which due requests waited with every connection busy. When
   * that share is a few per cent, the lag is mostly the server's: a stall of a few ms at the rate holds
   * every connection, and the requests due meanwhile queue in the generator instead of at the server.
   */
  sendLagP99Ms: number | null;
  inFlightP99Ms: number | null;
  connectionsExhaustedShare: number | null;
  /**
   * Sluice only: the mean milliseconds a worker task spent in each stage (`sluice_task_stage_seconds`:
   * batching, to_worker, worker, to_main). Where the server's part of a request's time went.
   */
  taskStageMeanMs: Record<TaskStage, number> | null;
  /**
   * Share (0..1) of the machine's CPU time left idle during the run (all processes, /proc/stat). Near 0:
   * the two cores were the limit. Well above 0: the case was bound by latency (a closed loop with too few
   * requests in flight to keep them busy), not by CPU.
   */
  machineIdleShare: number | null;
  /**
   * Share (0..1) of the machine's CPU time the hypervisor gave to something else while this VM's vCPUs
   * were ready to run (steal, /proc/stat). It is not in the idle share: a few per cent of it turns a
   * rate near the peak into overload (bench/RESULTS.md, 2026-12-06 evening).
   */
  machineStealShare: number | null;
  /**
   * Milliseconds per second the kernel's DAMON monitors (kdamond, bench/damon.ts) ran during the run;
   * null where none runs. Little CPU, but taken a few ms at a time from one of two cores.
   */
  damonMsPerSecond: number | null;
  /**
   * Microseconds per request that threads spent ready to run but waiting for a CPU (/proc schedstat):
   * the server's main thread (Sluice's HTTP thread), its other threads (Sluice's workers, V8's and
   * libuv's helpers), and the open loop's generator (null under wrk). On two shared cores at 80 % of
   * the peak, a Sluice worker task waited for a core about as long as it ran (bench/RESULTS.md, 2026-12-07).
   */
  cpuWaitMicrosPerRequest: CpuWait | null;
  /** wrk's own text report (empty for bench/openloop's runs), kept so a surprising figure can be checked by eye. */
  wrkReport: string;
}

export interface Measurement {
  label: string;
  case: Case;
  workload: string;
  eventsPerRequest: number;
  meanBodyBytes: number;
  /** Open loop: the arrival rate asked for, in requests/s. */
  offeredRequestsPerSecond: number | null;
  /** Per figure, the median over the runs. */
  median: Omit<Run, 'wrkReport' | 'requests' | 'non2xx' | 'socketErrors'>;
  non2xx: number;
  socketErrors: number;
  requests: number;
  /** The server's peak RSS (VmHWM) during the case (or since it started, where it cannot be reset). */
  peakRssMiB: number | null;
  peakRssPerCase: boolean;
  runs: Run[];
  /** Runs measured again because the hypervisor stole over STOLEN_SHARE_LIMIT of the CPU meanwhile (`measureUndisturbed`); in no figure above. */
  setAsideRuns: Run[];
  kafka?: KafkaDelivery;
}

export interface KafkaDelivery {
  topic: string;
  /** The status each accepted request got (201 guaranteed, 202 hasty). */
  status: number;
  /** Events in the requests the load generator counted as answered with a 2xx, over all runs of the case. */
  acknowledgedEvents: number;
  /** Messages added to the topic from just before the first run until it stopped growing after the last. */
  producedEvents: number;
  /** False when, before or after, Sluice still had work in flight at the bench's time limit (45 s). */
  settled: boolean;
  /** Seconds from the end of the last run to the last message reaching the topic. */
  drainSeconds: number;
  /** The broker's CPU (all its threads) per event in Kafka; it shares the CPUs with Sluice and wrk. */
  brokerCpuMicrosPerEvent: number | null;
  /** Sluice's CPU per event in Kafka, up to the moment the topic last grew (so hasty produce work counts). */
  serverCpuMicrosPerEvent: number | null;
  /**
   * The same split by thread: the HTTP thread (node-rdkafka's produce() calls and delivery reports run
   * there), librdkafka's own threads, and the rest (the workers, V8's and libuv's helpers).
   */
  serverCpuMicrosPerEventByThread: CpuByThread | null;
}

export interface Failure {
  label: string;
  error: string;
}

export interface Ratio {
  label: string;
  workload: string;
  connections: number;
  ratio: number;
}

export interface TargetCheck {
  goal: string;
  met: boolean | null;
  measured: string;
}

/** A rotation (plan.ts): requests/s of each target in each round, and each one's median ratio to the baseline. */
export interface RotationResult {
  label: string;
  baseline: string;
  /** Per round, requests/s (2xx) by target. */
  rounds: Array<Record<string, number>>;
  /** By target other than the baseline: the median over the rounds of its requests/s over the baseline's in that round. */
  medianRatio: Record<string, number>;
  /** Rounds measured again because the hypervisor stole over the limit during one of their runs; in no ratio. */
  setAsideRounds: RotationRound[];
}

export interface RotationRound {
  /** Requests/s (2xx) by target. */
  requestsPerSecond: Record<string, number>;
  /** The largest share of the CPU the hypervisor stole during one of the round's runs; null if unknown. */
  stolen: number | null;
}

export interface BenchReport {
  startedAt: string;
  command: string;
  mode: 'quick' | 'default';
  settings: {
    wrkThreads: number;
    /** What ran the open loops; absent in results from before bench/openloop, whose open loops were wrk's. */
    openLoopGenerator?: string;
    warmupSeconds: number;
    measureSeconds: number;
    repetitions: number;
  };
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    wrk: string;
    commit: string;
    cpuBusyBeforeStart: number | null;
    /** The kernel's DAMON monitors running when the bench started; absent in results from before 2026-12-07. */
    damon?: DamonMonitor[];
  };
  kafka?: { bootstrap: string; topic: string; config: string };
  measurements: Measurement[];
  ratios: Ratio[];
  targets: TargetCheck[];
  failures: Failure[];
  rotation: RotationResult | null;
}

/**
 * The command that made a report, with the SLUICE_* variables it ran under: every Sluice the run starts
 * inherits them (config overrides such as SLUICE_POOL_MAX_BATCH_DELAY_US), so a result is not
 * reproducible without them.
 */
export function commandLine(argv: string[], env: NodeJS.ProcessEnv): string {
  const settings = Object.keys(env).filter((name) => name.startsWith('SLUICE_')).sort().map((name) => `${name}=${shellWord(env[name] ?? '')}`);
  return [...settings, 'npm run bench', ...(argv.length ? ['--', ...argv.map(shellWord)] : [])].join(' ');
}

/** As a shell would read it back: single-quoted unless it is plainly one word. */
function shellWord(text: string): string {
  return /^[\w.,:/@%+=-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

export function summarizeRotation(label: string, baseline: string, rounds: Array<Record<string, number>>, setAsideRounds: RotationRound[] = []): RotationResult {
  const medianRatio: Record<string, number> = {};
  for (const target of Object.keys(rounds[0] ?? {})) {
    if (target !== baseline) medianRatio[target] = median(rounds.map((round) => round[target]! / round[baseline]!));
  }
  return { label, baseline, rounds, medianRatio, setAsideRounds };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const medianOf = (runs: Run[], pick: (run: Run) => number): number => median(runs.map(pick));

/**
 * Over this share of the machine's CPU stolen by the hypervisor, a run measures the VM's neighbours
 * more than the server: in the 16:18 UTC full run of 2026-12-07, 40 of 111 runs lost 5 to 38 % and the
 * p99 at 80 % of peak read 1,635 ms, where the 24 results files before it had 7 such runs in 1,143.
 */
export const STOLEN_SHARE_LIMIT = 0.05;
/** Per `measureUndisturbed` (a case's runs, its peak probe, the rotation): past this many set aside, a disturbed one is kept, so a spell that lasts still ends the bench. */
export const MAX_SET_ASIDE_RUNS = 3;

/** True when a share of the CPU the hypervisor stole (null: unknown) is over STOLEN_SHARE_LIMIT. */
export function overStealLimit(stolen: number | null): boolean {
  return stolen !== null && stolen > STOLEN_SHARE_LIMIT;
}

/** The larger of two stolen shares, either possibly unknown (null): what a round of several runs counts as. */
export function worseStolen(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/**
 * `count` results of `measure` (a case's runs, a peak probe, a rotation's rounds), each during which the
 * hypervisor stole over the limit set aside and measured again, up to MAX_SET_ASIDE_RUNS.
 */
export async function measureUndisturbed<T>(count: number, measure: () => Promise<T>, stolen: (result: T) => number | null, onSetAside: (result: T) => void): Promise<{ kept: T[]; setAside: T[] }> {
  const kept: T[] = [];
  const setAside: T[] = [];
  while (kept.length < count) {
    const result = await measure();
    if (overStealLimit(stolen(result)) && setAside.length < MAX_SET_ASIDE_RUNS) {
      setAside.push(result);
      onSetAside(result);
    } else {
      kept.push(result);
    }
  }
  return { kept, setAside };
}

export interface CpuWait {
  main: number;
  other: number;
  generator: number | null;
}

/** Per kind of thread, the median over the runs that have the figure; null when none has. */
function medianCpuWait(runs: Run[]): CpuWait | null {
  const known = runs.flatMap((run) => (run.cpuWaitMicrosPerRequest ? [run.cpuWaitMicrosPerRequest] : []));
  if (known.length === 0) return null;
  const generator = known.flatMap((wait) => (wait.generator === null ? [] : [wait.generator]));
  return { main: median(known.map((wait) => wait.main)), other: median(known.map((wait) => wait.other)), generator: generator.length ? median(generator) : null };
}

/** Per stage, the median over the runs that have the figure; null when none has. */
function medianStages(runs: Run[]): Record<TaskStage, number> | null {
  const known = runs.flatMap((run) => (run.taskStageMeanMs ? [run.taskStageMeanMs] : []));
  if (known.length === 0) return null;
  return Object.fromEntries(TASK_STAGES.map((stage) => [stage, median(known.map((means) => means[stage]))])) as Record<TaskStage, number>;
}

export function summarize(c: Case, runs: Run[], meanBodyBytes: number, offered: number | null, peakRssMiB: number | null, peakRssPerCase: boolean, setAsideRuns: Run[] = []): Measurement {
  const known = (pick: (run: Run) => number | null): number[] => runs.map(pick).filter((value): value is number => value !== null);
  /** The median of the runs that have the figure; null if none has. */
  const medianKnown = (pick: (run: Run) => number | null): number | null => {
    const values = known(pick);
    return values.length ? median(values) : null;
  };
  const serverP99 = known((run) => run.serverP99AtMostMs);
  const sum = (pick: (run: Run) => number): number => runs.reduce((total, run) => total + pick(run), 0);
  return {
    label: caseLabel(c),
    case: c,
    workload: WORKLOADS[c.workload].name,
    eventsPerRequest: WORKLOADS[c.workload].eventsPerRequest,
    meanBodyBytes,
    offeredRequestsPerSecond: offered,
    median: {
      requestsPerSecond: medianOf(runs, (run) => run.requestsPerSecond),
      eventsPerSecond: medianOf(runs, (run) => run.eventsPerSecond),
      latencyMs: {
        mean: medianOf(runs, (run) => run.latencyMs.mean),
        max: Math.max(...runs.map((run) => run.latencyMs.max)),
        p50: medianOf(runs, (run) => run.latencyMs.p50),
        p90: medianOf(runs, (run) => run.latencyMs.p90),
        p99: medianOf(runs, (run) => run.latencyMs.p99),
        p99_9: medianOf(runs, (run) => run.latencyMs.p99_9),
      },
      cpuMicrosPerEvent: medianKnown((run) => run.cpuMicrosPerEvent),
      mainGcMsPerSecond: medianKnown((run) => run.mainGcMsPerSecond),
      // A bucket bound: the upper middle run's, never the average of two bounds.
      serverP99AtMostMs: serverP99.length ? serverP99.sort((a, b) => a - b)[Math.floor(serverP99.length / 2)] : null,
      serverShareOver5Ms: medianKnown((run) => run.serverShareOver5Ms),
      sendLagP99Ms: medianKnown((run) => run.sendLagP99Ms),
      inFlightP99Ms: medianKnown((run) => run.inFlightP99Ms),
      connectionsExhaustedShare: medianKnown((run) => run.connectionsExhaustedShare),
      taskStageMeanMs: medianStages(runs),
      machineIdleShare: medianKnown((run) => run.machineIdleShare),
      machineStealShare: medianKnown((run) => run.machineStealShare),
      damonMsPerSecond: medianKnown((run) => run.damonMsPerSecond),
      cpuWaitMicrosPerRequest: medianCpuWait(runs),
    },
    non2xx: sum((run) => run.non2xx),
    socketErrors: sum((run) => run.socketErrors),
    requests: sum((run) => run.requests),
    peakRssMiB,
    peakRssPerCase,
    runs,
    setAsideRuns,
  };
}

/** The closed-loop measurement of `target` on the same workload and connections, if this run has one. */
export function findClosed(measurements: Measurement[], target: string, workload: WorkloadId, connections: number): Measurement | undefined {
  return measurements.find((m) => m.case.target === target && m.case.workload === workload && m.case.connections === connections && m.case.load.kind === 'closed');
}

const BASELINES = [
  { label: 'vs naive', baseline: 'naive' },
  { label: 'vs ceiling', baseline: 'ceiling' },
] as const;

/** Each Sluice closed-loop case's events/s over the naive gateway's and the ceiling's on the same workload and connections. */
export function computeRatios(measurements: Measurement[]): Ratio[] {
  const ratios: Ratio[] = [];
  for (const m of measurements.filter((m) => m.case.load.kind === 'closed' && m.case.target !== 'ceiling' && m.case.target !== 'naive')) {
    for (const { label, baseline } of BASELINES) {
      const base = findClosed(measurements, baseline, m.case.workload, m.case.connections);
      if (base && base.median.eventsPerSecond > 0) {
        ratios.push({ label: `${m.case.target} ${label}`, workload: m.workload, connections: m.case.connections, ratio: m.median.eventsPerSecond / base.median.eventsPerSecond });
      }
    }
  }
  return ratios;
}

/** True when the topic holds fewer events than were acknowledged, or the count is uncertain (Sluice never settled). */
export function kafkaShortfall(m: Measurement): boolean {
  return m.kafka !== undefined && (!m.kafka.settled || m.kafka.producedEvents < m.kafka.acknowledgedEvents);
}

export const whole = (n: number): string => Math.round(n).toLocaleString('en-US');
export const ms = (n: number): string => `${n.toFixed(2)} ms`;
/** A share (0..1) as a percentage. */
export const percent = (share: number, digits = 1): string => `${(100 * share).toFixed(digits)} %`;
const orDash = (n: number | null, format: (n: number) => string): string => (n === null ? '-' : format(n));

function ratioCell(report: BenchReport, m: Measurement, label: string): string {
  if (m.case.load.kind !== 'closed') return '';
  const ratio = report.ratios.find((r) => r.label === `${m.case.target} ${label}` && r.workload === m.workload && r.connections === m.case.connections);
  return ratio ? `${ratio.ratio.toFixed(2)}×` : '';
}

export function formatTable(report: BenchReport): string {
  const header = ['case', 'req/s', 'events/s', 'p50', 'p99', 'p99.9', 'Sluice p99', 'sent→answered p99', 'non-2xx', 'CPU s/M ev', 'main GC ms/s', 'CPU idle', 'CPU stolen', 'peak RSS', 'vs naive', 'vs ceiling'];
  const rows = report.measurements.map((m) => [
    m.label,
    whole(m.median.requestsPerSecond),
    whole(m.median.eventsPerSecond),
    ms(m.median.latencyMs.p50),
    ms(m.median.latencyMs.p99),
    ms(m.median.latencyMs.p99_9),
    orDash(m.median.serverP99AtMostMs, (n) => (Number.isFinite(n) ? `≤ ${n} ms` : 'over the last bucket')),
    orDash(m.median.inFlightP99Ms, ms),
    m.non2xx > 0 ? `${m.non2xx} (!)` : '0',
    orDash(m.kafka?.serverCpuMicrosPerEvent ?? m.median.cpuMicrosPerEvent, (n) => n.toFixed(2)),
    orDash(m.median.mainGcMsPerSecond, (n) => n.toFixed(1)),
    orDash(m.median.machineIdleShare, (n) => percent(n, 0)),
    orDash(m.median.machineStealShare, percent),
    orDash(m.peakRssMiB, (n) => `${n.toFixed(0)} MiB${m.peakRssPerCase ? '' : ' *'}`),
    ratioCell(report, m, 'vs naive'),
    ratioCell(report, m, 'vs ceiling'),
  ]);
  return [alignColumns([header, ...rows]), ...formatSetAside(report), ...formatRotation(report), ...formatKafka(report), ...formatTargets(report)].join('\n');
}

/** Which cases were measured again, and what the hypervisor took in the runs left out. */
function formatSetAside(report: BenchReport): string[] {
  const cases = report.measurements.filter((m) => m.setAsideRuns.length);
  if (cases.length === 0) return [];
  const lines = cases.map((m) => `  ${m.label}: ${m.setAsideRuns.map((run) => `${percent(run.machineStealShare ?? 0)} stolen, p99 ${ms(run.latencyMs.p99)}`).join('; ')}`);
  return ['', `runs set aside and measured again, the hypervisor having stolen over ${percent(STOLEN_SHARE_LIMIT, 0)} of the CPU (in no figure above):`, ...lines];
}

/** Produced vs acknowledged per Kafka measurement: a hasty figure whose events never reached Kafka means nothing. */
function formatKafka(report: BenchReport): string[] {
  const measured = report.measurements.filter((m) => m.kafka);
  if (measured.length === 0) return [];
  const lines = measured.map((m) => {
    const k = m.kafka!;
    const delta = k.producedEvents - k.acknowledgedEvents;
    const verdict = !k.settled
      ? `UNCERTAIN (!): Sluice still busy at the time limit, delta ${delta >= 0 ? '+' : ''}${whole(delta)}`
      : delta < 0
        ? `${whole(-delta)} MISSING (!)`
        : delta > 0
          ? `+${whole(delta)} (requests cut off at wrk's end)`
          : 'all there';
    return (
      `  ${m.label}: ${whole(k.acknowledgedEvents)} acknowledged (${k.status}), ${whole(k.producedEvents)} in Kafka, ${verdict}; ` +
      `last one ${k.drainSeconds.toFixed(1)} s after the run; CPU µs/event: broker ${orDash(k.brokerCpuMicrosPerEvent, (n) => n.toFixed(2))}, ` +
      `Sluice ${orDash(k.serverCpuMicrosPerEvent, (n) => n.toFixed(2))}${byThreadText(k.serverCpuMicrosPerEventByThread)}`
    );
  });
  return ['', `Kafka topic ${report.kafka?.topic ?? ''}, events added during each case (high watermarks, counted once Sluice has nothing in flight):`, ...lines];
}

function byThreadText(split: CpuByThread | null): string {
  return split ? ` (HTTP thread ${split.main.toFixed(2)}, librdkafka ${split.librdkafka.toFixed(2)}, workers and the rest ${split.other.toFixed(2)})` : '';
}

function formatRotation(report: BenchReport): string[] {
  const rotation = report.rotation;
  if (!rotation) return [];
  const targets = Object.keys(rotation.rounds[0] ?? {});
  const figures = (requestsPerSecond: Record<string, number>): string => `${targets.map((t) => `${t} ${whole(requestsPerSecond[t]!)}`).join(', ')} requests/s`;
  const rounds = rotation.rounds.map((round, i) => `  round ${i + 1}: ${figures(round)}`);
  const ratios = Object.entries(rotation.medianRatio).map(([target, ratio]) => `${target} ${percent(ratio)}`);
  const setAside = rotation.setAsideRounds.map((round) => `  set aside, ${percent(round.stolen ?? 0)} stolen: ${figures(round.requestsPerSecond)}`);
  return ['', `rotation, ${rotation.label} (each round runs them one after the other):`, ...rounds, ...setAside, `  median share of the ${rotation.baseline} over the rounds: ${ratios.join(', ')}`];
}

function formatTargets(report: BenchReport): string[] {
  if (report.targets.length === 0) return [];
  const verdict = (met: boolean | null): string => (met === null ? 'not measured' : met ? 'met' : 'NOT met');
  return ['', 'targets (issue 6; this 2-core machine, load generator and broker included):', ...report.targets.map((t) => `  ${t.goal}: ${verdict(t.met)} (${t.measured})`)];
}

/** A text table: the first `leftColumns` columns aligned left, the rest (figures) right, a rule under the header. */
export function alignColumns(rows: string[][], leftColumns = 1): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]): string => row.map((cell, column) => (column < leftColumns ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(rows[0]), rule, ...rows.slice(1).map(line)].join('\n');
}

/** Writes `bench/results/<ISO time>.json` (colons and the milliseconds dropped so it is a safe file name). */
export function writeReport(resultsDir: string, report: BenchReport): string {
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = report.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const file = path.join(resultsDir, `${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}
