// `npm run bench`: drives the uWS HTTP ceiling and Sluice (null sink) with the same wrk load in one run,
// for each workload, and prints events/s and latency with Sluice as a ratio of the ceiling.
//
// Options: --quick (shorter runs), --targets ceiling,sluice (which servers; both by default).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeAllBodies, type BodiesFile } from './bodies';
import { formatTable, sluiceOverCeiling, writeReport, type BenchReport, type Measurement } from './report';
import { onInterrupt, stopChildrenOnSignal } from './children';
import { cpuBusyShare, freePort, processUsage, startCeiling, startSluice, stopServer, type RunningServer } from './targets';
import { ensureWrk, runWrk, wrkVersion, type WrkSettings } from './wrk';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const WRK_SCRIPT = path.join(REPO_ROOT, 'bench', 'wrk', 'post.lua');
const SLUICE_CONFIG = 'bench/config/null.yaml';
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

// One wrk thread: on the 2-core machine the other core is the server's (Sluice's workers share it).
const WRK_THREADS = 1;
const CONNECTIONS = 100;

const TARGETS = ['ceiling', 'sluice'] as const;
type Target = (typeof TARGETS)[number];

interface Options {
  mode: 'quick' | 'default';
  warmupSeconds: number;
  measureSeconds: number;
  targets: Target[];
}

function usage(): never {
  console.error('usage: npm run bench [-- --quick] [--targets ceiling,sluice]');
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
  const names = list.split(',').filter(Boolean);
  if (names.length === 0 || names.some((name) => !(TARGETS as readonly string[]).includes(name))) usage();
  return names as Target[];
}

async function startTarget(target: Target): Promise<RunningServer> {
  const port = await freePort();
  return target === 'ceiling' ? startCeiling(__dirname, REPO_ROOT, port) : startSluice(REPO_ROOT, port, SLUICE_CONFIG);
}

/** One real request first: if the server refuses the body, the load figures would be meaningless. */
async function checkAccepts(server: RunningServer, bodies: BodiesFile): Promise<void> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: bodies.sampleBody,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`${server.target} answered ${response.status} (expected 201) to a ${bodies.workload.name} body: ${text.slice(0, 2000)}`);
  }
}

async function measure(server: RunningServer, bodies: BodiesFile, options: Options): Promise<Measurement> {
  const settings = (durationSeconds: number): WrkSettings => ({
    threads: WRK_THREADS,
    connections: CONNECTIONS,
    durationSeconds,
    script: WRK_SCRIPT,
    bodiesFile: bodies.file,
    url: server.url,
  });
  await checkAccepts(server, bodies);
  console.log(`  ${server.target} · ${bodies.workload.name}: warm-up ${options.warmupSeconds} s, measure ${options.measureSeconds} s`);
  await runWrk(settings(options.warmupSeconds));
  const before = processUsage(server.child.pid);
  const wrk = await runWrk(settings(options.measureSeconds));
  const after = processUsage(server.child.pid);
  const events = wrk.requests * bodies.workload.eventsPerRequest;
  const socketErrors = Object.values(wrk.socketErrors).reduce((sum, count) => sum + count, 0);
  return {
    target: server.target,
    workload: bodies.workload.name,
    eventsPerRequest: bodies.workload.eventsPerRequest,
    meanBodyBytes: bodies.meanBodyBytes,
    requestsPerSecond: wrk.requestsPerSecond,
    eventsPerSecond: wrk.requestsPerSecond * bodies.workload.eventsPerRequest,
    latencyMs: wrk.latencyMs,
    non2xx: wrk.non2xx,
    socketErrors,
    cpuMicrosPerEvent: before && after && events > 0 ? ((after.cpuSeconds - before.cpuSeconds) * 1e6) / events : null,
    peakRssMiB: after ? after.peakRssBytes / 2 ** 20 : null,
    requests: wrk.requests,
    wrkReport: wrk.report,
  };
}

function loud(message: string): void {
  const bar = '!'.repeat(100);
  console.error(`\n${bar}\n${message}\n${bar}\n`);
}

async function benchTarget(target: Target, allBodies: BodiesFile[], options: Options, report: BenchReport): Promise<void> {
  let server: RunningServer;
  try {
    server = await startTarget(target);
  } catch (error) {
    report.failures.push({ target, error: String(error instanceof Error ? error.message : error) });
    loud(`${target} FAILED TO START — no figures for it:\n${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  try {
    for (const bodies of allBodies) await benchWorkload(server, bodies, options, report);
  } finally {
    await stopServer(server);
  }
}

async function benchWorkload(server: RunningServer, bodies: BodiesFile, options: Options, report: BenchReport): Promise<void> {
  try {
    const measurement = await measure(server, bodies, options);
    report.measurements.push(measurement);
    if (measurement.non2xx > 0) {
      loud(`${server.target} · ${bodies.workload.name}: ${measurement.non2xx} of ${measurement.requests} responses were 4xx/5xx — its figures are MEANINGLESS`);
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
  return report.failures.length === 0 && report.measurements.every((m) => m.non2xx === 0);
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
    for (const target of options.targets) await benchTarget(target, allBodies, options, report);
  } finally {
    removeBodies();
  }
  report.ratios = sluiceOverCeiling(report.measurements);
  const resultsFile = writeReport(RESULTS_DIR, report);
  printSummary(report, resultsFile);
  if (!isClean(report)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
