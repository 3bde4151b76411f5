// Driving wrk (the Debian package): finding or installing it, running it with bench/wrk/load.lua, and
// reading the exact figures that load.lua's done() prints as `BENCH_RESULT {json}`.

import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { BodiesFile } from './bodies';
import { trackChild } from './children';
import { ensureDebianPackage } from './debian';

const LOAD_SCRIPT = path.resolve(__dirname, '..', '..', 'bench', 'wrk', 'load.lua');
/** One wrk thread: on the 2-core machine the other core is the server's (Sluice's workers share it). */
export const WRK_THREADS = 1;

export interface WrkSettings {
  threads: number;
  connections: number;
  durationSeconds: number;
  script: string;
  bodiesFile: string;
  url: string;
  /** Content-Encoding of the pool's bodies (gzip), or null. */
  contentEncoding: string | null;
  /** Requests/s for an open loop (latency from each request's due time); null for wrk's closed loop. */
  rate: number | null;
}

export interface WrkResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** True when the latencies are the open loop's, measured from each request's due time. */
  openLoop: boolean;
  /** Responses whose latency was taken: in an open loop, those paired with their due time by X-Request-ID. */
  timedResponses: number;
  /** Responses with status >= 400, as wrk counts them (its "Non-2xx or 3xx responses"). */
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  latencyMs: { mean: number; max: number; p50: number; p90: number; p99: number; p99_9: number };
  /** wrk's own text report, kept so a surprising figure can be checked by eye. */
  report: string;
}

interface LuaResult {
  requests: number;
  duration_us: number;
  open_loop: boolean;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { count: number; mean: number; max: number; p50: number; p90: number; p99: number; p99_9: number };
}

/** Requests answered 2xx (or 3xx) per second: refusals are not throughput. */
export function answeredPerSecond(wrk: WrkResult): number {
  return (wrk.requests - wrk.non2xx) / wrk.durationSeconds;
}

/** wrk's settings to load `url` with `bodies`: a closed loop when `rate` is null. */
export function wrkLoad(url: string, bodies: BodiesFile, connections: number, durationSeconds: number, rate: number | null): WrkSettings {
  return {
    threads: WRK_THREADS,
    connections,
    durationSeconds,
    script: LOAD_SCRIPT,
    bodiesFile: bodies.file,
    url,
    contentEncoding: bodies.workload.gzip ? 'gzip' : null,
    rate,
  };
}

/** wrk must be there; installed once from Debian if it is not, else an error that says what to do. */
export function ensureWrk(): void {
  ensureDebianPackage('wrk');
}

export function wrkVersion(): string {
  const output = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return `${output.stdout}${output.stderr}`.split('\n')[0].trim();
}

function wrkArgs(settings: WrkSettings): string[] {
  return [
    `-t${settings.threads}`,
    `-c${settings.connections}`,
    `-d${settings.durationSeconds}s`,
    '--latency',
    '-s', settings.script,
    settings.url,
    '--', settings.bodiesFile, settings.contentEncoding ?? '-',
    ...(settings.rate === null ? [] : [String(settings.rate / settings.threads)]),
  ];
}

function runProcess(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const usToMs = (microseconds: number): number => microseconds / 1000;

export function parseWrkOutput(output: string): WrkResult {
  const line = output.split('\n').find((text) => text.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`wrk printed no BENCH_RESULT line; its output was:\n${output}`);
  const lua = JSON.parse(line.slice('BENCH_RESULT '.length)) as LuaResult;
  const durationSeconds = lua.duration_us / 1e6;
  const latency = lua.latency_us;
  return {
    requests: lua.requests,
    durationSeconds,
    requestsPerSecond: lua.requests / durationSeconds,
    openLoop: lua.open_loop,
    timedResponses: lua.latency_us.count,
    non2xx: lua.errors.status,
    socketErrors: { connect: lua.errors.connect, read: lua.errors.read, write: lua.errors.write, timeout: lua.errors.timeout },
    latencyMs: {
      mean: usToMs(latency.mean),
      max: usToMs(latency.max),
      p50: usToMs(latency.p50),
      p90: usToMs(latency.p90),
      p99: usToMs(latency.p99),
      p99_9: usToMs(latency.p99_9),
    },
    report: output.split('\n').filter((text) => !text.startsWith('BENCH_RESULT ')).join('\n').trim(),
  };
}

export async function runWrk(settings: WrkSettings): Promise<WrkResult> {
  const { code, output } = await runProcess('wrk', wrkArgs(settings));
  if (code !== 0) throw new Error(`wrk exited with code ${code}:\n${output}`);
  return parseWrkOutput(output);
}
