// The bench's load: a closed loop is wrk with bench/wrk/load.lua (bench/wrk.ts), an open loop at a
// fixed arrival rate is bench/openloop (bench/openloop.ts). Both print one line `BENCH_RESULT {json}`
// of the same shape with exact figures (latencies in microseconds), read here.

import { spawn } from 'node:child_process';
import type { BodiesFile } from './bodies';
import { trackChild } from './children';
import { ensureOpenLoop, OPEN_LOOP_BINARY, openLoopArgs } from './openloop';
import { ensureWrk, wrkArgs } from './wrk';

export interface LoadSettings {
  connections: number;
  durationSeconds: number;
  bodiesFile: string;
  url: string;
  /** Content-Encoding of the pool's bodies (gzip), or null. */
  contentEncoding: string | null;
  /** Requests/s for an open loop (latency from each request's due time); null for wrk's closed loop. */
  rate: number | null;
}

export interface Percentiles {
  max: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
}

export interface LoadResult {
  /** Requests answered. */
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** True when the latencies are the open loop's, measured from each request's due time. */
  openLoop: boolean;
  /** Latencies taken: in an open loop, every request that fell due, answered or not. */
  timedResponses: number;
  /** Open loop: requests due that were not answered by the end (counted with their age then). */
  unanswered: number;
  /** Responses with status >= 400, as wrk counts them (its "Non-2xx or 3xx responses"). */
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  latencyMs: Percentiles & { mean: number };
  /**
   * Open loop only (null for wrk): the latency of answered requests in two parts, due to sent (the
   * generator's lag: no free connection, or no core for it) and sent to answered (the server's part),
   * and the share (0..1) of the run during which due requests waited with every connection busy.
   */
  parts: {
    sendLagMs: Percentiles;
    inFlightMs: Percentiles;
    connectionsExhaustedShare: number;
    /** Seconds the generator was ready to run but waited for a CPU; null where the kernel does not say. */
    generatorRunQueueWaitSeconds: number | null;
  } | null;
  /** The generator's own text report (wrk's), kept so a surprising figure can be checked by eye. */
  report: string;
}

interface PrintedResult {
  requests: number;
  duration_us: number;
  open_loop: boolean;
  unanswered?: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: PrintedPercentiles & { mean: number };
  send_lag_us?: PrintedPercentiles;
  in_flight_us?: PrintedPercentiles;
  connections_exhausted_us?: number;
  run_queue_wait_us?: number;
}

type PrintedPercentiles = Percentiles & { count: number };

/** Both generators must be there: wrk from Debian, openloop built from its source. */
export function ensureLoadGenerators(): void {
  ensureWrk();
  ensureOpenLoop();
}

/** Requests answered 2xx (or 3xx) per second: refusals are not throughput. */
export function answeredPerSecond(load: LoadResult): number {
  return (load.requests - load.non2xx) / load.durationSeconds;
}

/** The load of `bodies` on `url`: a closed loop when `rate` is null. */
export function loadSettings(url: string, bodies: BodiesFile, connections: number, durationSeconds: number, rate: number | null): LoadSettings {
  return { connections, durationSeconds, bodiesFile: bodies.file, url, contentEncoding: bodies.workload.gzip ? 'gzip' : null, rate };
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

function percentilesMs(printed: PrintedPercentiles): Percentiles {
  return { max: usToMs(printed.max), p50: usToMs(printed.p50), p90: usToMs(printed.p90), p99: usToMs(printed.p99), p99_9: usToMs(printed.p99_9) };
}

export function parseLoadOutput(output: string): LoadResult {
  const line = output.split('\n').find((text) => text.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`the load generator printed no BENCH_RESULT line; its output was:\n${output}`);
  const printed = JSON.parse(line.slice('BENCH_RESULT '.length)) as PrintedResult;
  const durationSeconds = printed.duration_us / 1e6;
  const latency = printed.latency_us;
  return {
    requests: printed.requests,
    durationSeconds,
    requestsPerSecond: printed.requests / durationSeconds,
    openLoop: printed.open_loop,
    timedResponses: latency.count,
    unanswered: printed.unanswered ?? 0,
    non2xx: printed.errors.status,
    socketErrors: { connect: printed.errors.connect, read: printed.errors.read, write: printed.errors.write, timeout: printed.errors.timeout },
    latencyMs: { mean: usToMs(latency.mean), ...percentilesMs(latency) },
    parts:
      printed.send_lag_us && printed.in_flight_us && printed.connections_exhausted_us !== undefined
        ? {
            sendLagMs: percentilesMs(printed.send_lag_us),
            inFlightMs: percentilesMs(printed.in_flight_us),
            connectionsExhaustedShare: printed.connections_exhausted_us / printed.duration_us,
            generatorRunQueueWaitSeconds: printed.run_queue_wait_us === undefined || printed.run_queue_wait_us < 0 ? null : printed.run_queue_wait_us / 1e6,
          }
        : null,
    report: output.split('\n').filter((text) => !text.startsWith('BENCH_RESULT ')).join('\n').trim(),
  };
}

export async function runLoad(settings: LoadSettings): Promise<LoadResult> {
  const { url, bodiesFile, contentEncoding, connections, durationSeconds, rate } = settings;
  const [command, args] = rate === null
    ? ['wrk', wrkArgs(url, bodiesFile, contentEncoding, connections, durationSeconds)]
    : [OPEN_LOOP_BINARY, openLoopArgs(url, bodiesFile, contentEncoding, rate, connections, durationSeconds)];
  const { code, output } = await runProcess(command, args);
  if (code !== 0) throw new Error(`${command} exited with code ${code}:\n${output}`);
  return parseLoadOutput(output);
}
