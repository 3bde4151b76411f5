// The servers under test, each a child process on its own free port: the uWS ceiling, the naive gateway
// and Sluice (null, file or kafka sink). Starting waits until the server says it is ready; a server that
// dies or never gets ready is an error that carries the tail of its output, so the reason is on screen.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { readRunQueueWaitSeconds, threadKind, type ThreadKind } from '../src/thread-cpu-wait';
import type { BodiesFile } from './bodies';
import { trackChild } from './children';
import { histogramBuckets, type Buckets } from './histogram';

export interface RunningServer {
  target: string;
  url: string;
  child: ChildProcess;
  output: OutputTail;
}

const START_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 10_000;

/** Keeps the last lines a child printed, for error messages; reading them also keeps its pipes drained. */
class OutputTail {
  private lines: string[] = [];
  constructor(private readonly maxLines = 40) {}
  push(chunk: Buffer): void {
    this.lines.push(...chunk.toString().split('\n').filter((line) => line.length > 0));
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }
  text(): string {
    return this.lines.length ? this.lines.map((line) => `    | ${line}`).join('\n') : '    (no output)';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function spawnServer(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: OutputTail } {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail();
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  trackChild(child);
  child.on('error', (error) => output.push(Buffer.from(`spawn error: ${error.message}`)));
  return { child, output };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `isReady` until it says yes; fails early if the child exits, or after START_TIMEOUT_MS. */
async function waitUntilReady(server: RunningServer, what: string, isReady: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      const how = server.child.exitCode !== null ? `exit code ${server.child.exitCode}` : `signal ${server.child.signalCode}`;
      throw new Error(`${server.target} exited (${how}) before ${what}; its last output:\n${server.output.text()}`);
    }
    if (await isReady()) return;
    await sleep(POLL_INTERVAL_MS);
  }
  server.child.kill('SIGKILL');
  throw new Error(`${server.target} did not get ready (${what}) within ${START_TIMEOUT_MS / 1000} s; its last output:\n${server.output.text()}`);
}

/**
 * A bench-owned server script (ceiling.js, naive.js) that takes its port as first argument and prints
 * `listening <port>` when ready.
 */
export async function startScriptServer(target: string, script: string, args: string[], repoRoot: string, port: number): Promise<RunningServer> {
  const started = spawnServer([script, String(port), ...args], repoRoot);
  const server: RunningServer = { target, url: `http://127.0.0.1:${port}/v1/events`, ...started };
  let saidListening = false;
  server.child.stdout?.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes(`listening ${port}`)) saidListening = true;
  });
  await waitUntilReady(server, `printing "listening ${port}"`, () => saidListening);
  return server;
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

export interface SluiceOptions {
  /** The name in the report (default `sluice`). */
  target?: string;
  /** Extra environment for the server, e.g. SLUICE_KAFKA__BOOTSTRAP_SERVERS. */
  env?: NodeJS.ProcessEnv;
  /** Query string for the load's URL, e.g. `hasty=true`. */
  query?: string;
}

/** Ready when GET /readyz answers 200, which with the kafka sink means its producers are connected. */
export async function startSluice(repoRoot: string, port: number, configFile: string, options: SluiceOptions = {}): Promise<RunningServer> {
  const cli = path.join(repoRoot, 'dist', 'src', 'cli.js');
  if (!fs.existsSync(cli)) {
    throw new Error(`Sluice is not built: ${cli} does not exist (npm run build, or fix the build errors it shows)`);
  }
  const args = [cli, 'serve', '--config', configFile, '--port', String(port)];
  const started = spawnServer(args, repoRoot, options.env);
  const base = `http://127.0.0.1:${port}`;
  const query = options.query ? `?${options.query}` : '';
  const server: RunningServer = { target: options.target ?? 'sluice', url: `${base}/v1/events${query}`, ...started };
  await waitUntilReady(server, `GET /readyz answering 200 on port ${port}`, () => answers200(`${base}/readyz`));
  return server;
}

/** One real request first: if the server refuses the body, the load figures would be meaningless. */
export async function checkAccepts(server: RunningServer, bodies: BodiesFile, expected: number): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (bodies.workload.gzip) headers['content-encoding'] = 'gzip';
  const response = await fetch(server.url, { method: 'POST', headers, body: bodies.sampleBody, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== expected) {
    throw new Error(`${server.target} answered ${response.status} (expected ${expected}) to a ${bodies.workload.name} body: ${text.slice(0, 2000)}`);
  }
}

export async function stopServer(server: RunningServer): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(STOP_TIMEOUT_MS).then(() => true)]);
  if (timedOut) {
    console.warn(`  ${server.target} did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM; killing it`);
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * The value of a series in Prometheus text (Sluice's /metrics): unlabelled, or with exactly `labels`
 * as written there (`stage="worker"`); NaN when absent.
 */
export function metricValue(text: string, name: string, labels = ''): number {
  const series = labels === '' ? `${name} ` : `${name}{${labels}} `;
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? NaN : Number(line.slice(series.length).split(' ')[0]);
}

/** The sum over every series of `name`, whatever its labels (e.g. a histogram's `_sum` by kind); NaN when absent. */
export function metricSum(text: string, name: string): number {
  let total = NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const rest = line[name.length] === '{' ? line.slice(line.lastIndexOf('}') + 1) : line.slice(name.length);
    const value = Number(rest.trim().split(' ')[0]);
    total = Number.isNaN(total) ? value : total + value;
  }
  return total;
}

/** Sluice's /metrics text, or null when it does not answer 200 within 2 s (a busy server counts as not answering). */
export async function scrapeMetrics(server: RunningServer): Promise<string | null> {
  try {
    const response = await fetch(`${new URL(server.url).origin}/metrics`, { signal: AbortSignal.timeout(2_000) });
    const text = await response.text();
    return response.status === 200 ? text : null;
  } catch {
    return null;
  }
}

/** The stages of a worker task that Sluice times (`sluice_task_stage_seconds{stage}`). */
export const TASK_STAGES = ['batching', 'to_worker', 'worker', 'to_main'] as const;
export type TaskStage = (typeof TASK_STAGES)[number];

/** Per stage, the seconds and the tasks counted since Sluice started. */
export type TaskStageTotals = Record<TaskStage, { seconds: number; tasks: number }>;

/** What one scrape of Sluice's /metrics gives a run's figures. */
export interface SluiceSample {
  /** Seconds its main thread has spent in garbage collection since it started (prom-client's GC histogram, every kind). */
  gcSeconds: number | null;
  /** Its own latency histogram for POST /v1/events (handler start to reply), every mode. */
  intakeLatency: Buckets | null;
  taskStages: TaskStageTotals | null;
}

function taskStageTotals(text: string): TaskStageTotals | null {
  const totals: Partial<TaskStageTotals> = {};
  for (const stage of TASK_STAGES) {
    const seconds = metricValue(text, 'sluice_task_stage_seconds_sum', `stage="${stage}"`);
    const tasks = metricValue(text, 'sluice_task_stage_seconds_count', `stage="${stage}"`);
    if (Number.isNaN(seconds) || Number.isNaN(tasks)) return null;
    totals[stage] = { seconds, tasks };
  }
  return totals as TaskStageTotals;
}

/** Sluice's counters for a run's figures; nulls when its /metrics cannot be read. */
export async function sampleSluice(server: RunningServer): Promise<SluiceSample> {
  const text = await scrapeMetrics(server);
  if (text === null) return { gcSeconds: null, intakeLatency: null, taskStages: null };
  const seconds = metricSum(text, 'sluice_nodejs_gc_duration_seconds_sum');
  const latency = histogramBuckets(text, 'sluice_http_request_duration_seconds', 'route="/v1/events"');
  return { gcSeconds: Number.isNaN(seconds) ? null : seconds, intakeLatency: latency.size > 0 ? latency : null, taskStages: taskStageTotals(text) };
}

/** The mean milliseconds per task of each stage between two samples; null when no task ran. */
export function taskStageMeans(before: TaskStageTotals, after: TaskStageTotals): Record<TaskStage, number> | null {
  const means: Partial<Record<TaskStage, number>> = {};
  for (const stage of TASK_STAGES) {
    const tasks = after[stage].tasks - before[stage].tasks;
    if (tasks <= 0) return null;
    means[stage] = ((after[stage].seconds - before[stage].seconds) * 1000) / tasks;
  }
  return means as Record<TaskStage, number>;
}

/** CPU time (user + system, all threads) and peak RSS of a process, from /proc; null where there is none. */
export interface ProcessUsage {
  cpuSeconds: number;
  peakRssBytes: number;
}

let clockTicksPerSecond: number | undefined;

function clockTicks(): number {
  if (clockTicksPerSecond === undefined) {
    const output = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clockTicksPerSecond = Number(output.stdout) || 100;
  }
  return clockTicksPerSecond;
}

/** User + system CPU seconds from a /proc `stat` line (a process's or one thread's). */
function statCpuSeconds(stat: string): number {
  // Fields after the parenthesised command name (which may contain spaces): utime is 14th, stime 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

export function processUsage(pid: number | undefined): ProcessUsage | null {
  if (pid === undefined) return null;
  try {
    const cpuSeconds = statCpuSeconds(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const peakKiB = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
    return { cpuSeconds, peakRssBytes: peakKiB * 1024 };
  } catch {
    return null;
  }
}

/**
 * Per thread id: the thread's name (`comm`; librdkafka names its threads `rdk:…`), its CPU seconds, and
 * the seconds it spent ready to run while waiting for a CPU (NaN where the kernel keeps no schedstat).
 */
export type ThreadCpu = Map<number, { name: string; cpuSeconds: number; waitSeconds: number }>;

/**
 * The CPU seconds (and run-queue wait) of each thread of a process; null when the process is gone. A
 * thread that has exited is missing, and so is its time.
 */
export function threadCpuSeconds(pid: number): ThreadCpu | null {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const threads: ThreadCpu = new Map();
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      threads.set(Number(tid), { name, cpuSeconds: statCpuSeconds(stat), waitSeconds: readRunQueueWaitSeconds(`/proc/${pid}/task/${tid}/schedstat`) });
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return threads;
}

/** A process's CPU by kind of thread: its main (JS, for Sluice the HTTP) thread, librdkafka's, the rest. */
export type CpuByThread = Record<ThreadKind, number>;

/**
 * The CPU seconds each kind of thread of process `pid` used between two readings of threadCpuSeconds,
 * or (`measure: 'waitSeconds'`) the seconds they waited for a CPU.
 */
export function cpuByThread(pid: number, before: ThreadCpu, after: ThreadCpu, measure: 'cpuSeconds' | 'waitSeconds' = 'cpuSeconds'): CpuByThread {
  const groups: CpuByThread = { main: 0, librdkafka: 0, other: 0 };
  for (const [tid, thread] of after) {
    groups[threadKind(tid, pid, thread.name)] += thread[measure] - (before.get(tid)?.[measure] ?? 0);
  }
  return groups;
}

/**
 * Resets a process's peak RSS (VmHWM) to its current RSS (Linux: `5` to /proc/<pid>/clear_refs), so
 * the next reading is the peak of what came after; false where that is not allowed.
 */
export function resetPeakRss(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * All CPUs' time so far, in clock ticks from /proc/stat's first line: idle (idle + iowait), stolen
 * (the hypervisor ran something else while a vCPU of this machine was ready to run) and total.
 */
export interface CpuTicks {
  idle: number;
  steal: number;
  total: number;
}

/** The machine's CPU ticks now; null where there is no /proc/stat. */
export function cpuTicks(): CpuTicks | null {
  try {
    const cpuLine = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const ticks = cpuLine.trim().split(/\s+/).slice(1).map(Number);
    // Fields 8 and 9 (guest time) are already counted in user time: the total stops at steal.
    return { idle: ticks[3] + (ticks[4] ?? 0), steal: ticks[7] ?? 0, total: ticks.slice(0, 8).reduce((sum, n) => sum + n, 0) };
  } catch {
    return null;
  }
}

/** Share (0..1) of all CPUs' time that went to `kind` between two readings; null when one is missing or no tick passed. */
function tickShare(kind: 'idle' | 'steal', before: CpuTicks | null, after: CpuTicks | null): number | null {
  if (!before || !after || after.total === before.total) return null;
  return (after[kind] - before[kind]) / (after.total - before.total);
}

/** Share (0..1) of all CPUs' time left idle between two readings. */
export function idleShare(before: CpuTicks | null, after: CpuTicks | null): number | null {
  return tickShare('idle', before, after);
}

/** Share (0..1) of all CPUs' time the hypervisor took between two readings. */
export function stealShare(before: CpuTicks | null, after: CpuTicks | null): number | null {
  return tickShare('steal', before, after);
}

/** Runs `work`, and gives with its result the share of the machine's CPU the hypervisor stole meanwhile. */
export async function withStolenShare<T>(work: () => Promise<T>): Promise<{ result: T; stolen: number | null }> {
  const before = cpuTicks();
  const result = await work();
  return { result, stolen: stealShare(before, cpuTicks()) };
}

/** Share (0..1) of all CPUs' time spent non-idle over `ms`; null where that cannot be read. */
export async function cpuBusyShare(ms: number): Promise<number | null> {
  const before = cpuTicks();
  await sleep(ms);
  const idle = idleShare(before, cpuTicks());
  return idle === null ? null : 1 - idle;
}
