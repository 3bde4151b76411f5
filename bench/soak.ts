// Soak run (issue 7): Sluice with the null sink under a steady, moderate, rate-limited load for N minutes,
// sampling its memory and handles from /metrics every ~10 s; prints the samples as a table and a verdict:
// flat, or growing (the least-squares slope of RSS, or of active handles, over the last 2/3 of the run,
// projected over that window, beyond a bound). Exit code 1 when growing.
//
// Usage: node dist/bench/soak.js [--minutes 10] [--rate 300] [--sample-seconds 10]

import * as http from 'node:http';
import * as path from 'node:path';
import { generateBodies, meanBytes, WORKLOADS } from './bodies';
import { stopChildrenOnSignal } from './children';
import { NULL_CONFIG } from './plan';
import { alignColumns } from './report';
import { freePort, metricValue, sleep, startSluice, stopServer, type RunningServer } from './targets';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const WORKLOAD = WORKLOADS.trivial50;
/** Requests are started every tick; at most MAX_OUTSTANDING wait for answers (more are skipped, counted). */
const TICK_MS = 10;
const MAX_OUTSTANDING = 64;
/** Over the judged window: RSS may drift by this much (GC and allocator noise), handles by this many. */
const RSS_GROWTH_BOUND_MIB = 16;
const HANDLE_GROWTH_BOUND = 5;
const MIB = 1024 * 1024;

interface Options {
  minutes: number;
  rate: number;
  sampleSeconds: number;
}

function parseOptions(args: string[]): Options {
  const options: Options = { minutes: 10, rate: 300, sampleSeconds: 10 };
  const names: Record<string, keyof Options> = { '--minutes': 'minutes', '--rate': 'rate', '--sample-seconds': 'sampleSeconds' };
  for (let i = 0; i < args.length; i += 2) {
    const key = names[args[i]];
    const value = Number(args[i + 1]);
    if (key === undefined || !(value > 0)) throw new Error(`usage: node dist/bench/soak.js [--minutes N] [--rate requests/s] [--sample-seconds S] (bad: ${args[i]} ${args[i + 1] ?? ''})`);
    options[key] = value;
  }
  return options;
}

/** Load counters since the last sample. */
interface Tally {
  sent: number;
  created: number;
  other: number;
  failed: number;
  skipped: number;
}

const emptyTally = (): Tally => ({ sent: 0, created: 0, other: 0, failed: 0, skipped: 0 });

/** A fixed request rate over keep-alive connections: the same work per interval, whatever the machine. */
class SteadyLoad {
  tally = emptyTally();
  private outstanding = 0;
  private next = 0;
  private owed = 0;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: MAX_OUTSTANDING });
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly url: URL,
    private readonly bodies: Buffer[],
    rate: number,
  ) {
    this.timer = setInterval(() => this.tick(rate * (TICK_MS / 1000)), TICK_MS);
  }

  private tick(perTick: number): void {
    this.owed += perTick;
    for (; this.owed >= 1; this.owed--) {
      if (this.outstanding >= MAX_OUTSTANDING) this.tally.skipped++;
      else this.send(this.bodies[this.next++ % this.bodies.length]);
    }
  }

  private send(body: Buffer): void {
    this.outstanding++;
    this.tally.sent++;
    const req = http.request(this.url, { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => {
        this.outstanding--;
        if (res.statusCode === 201) this.tally.created++;
        else this.tally.other++;
      });
    });
    req.on('error', () => {
      this.outstanding--;
      this.tally.failed++;
    });
    req.end(body);
  }

  takeTally(): Tally {
    const t = this.tally;
    this.tally = emptyTally();
    return t;
  }

  stop(): void {
    clearInterval(this.timer);
    this.agent.destroy();
  }
}

interface Sample {
  seconds: number;
  /** Seconds since the previous sample (or the start), which `tally` covers. */
  intervalSeconds: number;
  tally: Tally;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  activeHandles: number;
}

async function sample(metricsUrl: string, seconds: number, intervalSeconds: number, tally: Tally): Promise<Sample> {
  const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  return {
    seconds,
    intervalSeconds,
    tally,
    rssBytes: metricValue(text, 'sluice_process_resident_memory_bytes'),
    heapUsedBytes: metricValue(text, 'sluice_nodejs_heap_size_used_bytes'),
    externalBytes: metricValue(text, 'sluice_nodejs_external_memory_bytes'),
    activeHandles: metricValue(text, 'sluice_nodejs_active_handles_total'),
  };
}

/** Least-squares slope of ys over xs (units of y per unit of x). */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - meanX) * (ys[i] - meanY);
    den += (xs[i] - meanX) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function printTable(samples: readonly Sample[]): void {
  const rows = [['t (s)', 'req/s', '201', 'other', 'failed', 'skipped', 'RSS MiB', 'heap MiB', 'external MiB', 'handles']];
  for (const s of samples) {
    const t = s.tally;
    rows.push([
      s.seconds.toFixed(0),
      (t.sent / s.intervalSeconds).toFixed(0),
      String(t.created),
      String(t.other),
      String(t.failed),
      String(t.skipped),
      (s.rssBytes / MIB).toFixed(1),
      (s.heapUsedBytes / MIB).toFixed(1),
      (s.externalBytes / MIB).toFixed(1),
      String(s.activeHandles),
    ]);
  }
  console.log(alignColumns(rows, 0));
}

interface Verdict {
  flat: boolean;
  lines: string[];
}

/** Judges the last 2/3 of the samples: the first third is warm-up (JIT, pools, caches filling). */
function verdict(samples: readonly Sample[]): Verdict {
  const judged = samples.slice(Math.floor(samples.length / 3));
  if (judged.length < 3) return { flat: false, lines: [`too few samples to judge (${judged.length} in the last 2/3); run longer`] };
  const xs = judged.map((s) => s.seconds);
  const window = xs[xs.length - 1] - xs[0];
  const rssGrowth = slope(xs, judged.map((s) => s.rssBytes)) * window;
  const heapGrowth = slope(xs, judged.map((s) => s.heapUsedBytes)) * window;
  const handleGrowth = slope(xs, judged.map((s) => s.activeHandles)) * window;
  const failures = samples.reduce((n, s) => n + s.tally.other + s.tally.failed, 0);
  const rssFlat = rssGrowth / MIB < RSS_GROWTH_BOUND_MIB;
  const handlesFlat = handleGrowth < HANDLE_GROWTH_BOUND;
  return {
    flat: rssFlat && handlesFlat,
    lines: [
      `judged: the last ${judged.length} samples (${window.toFixed(0)} s); least-squares trend over that window:`,
      `  RSS ${(rssGrowth / MIB).toFixed(1)} MiB (bound ${RSS_GROWTH_BOUND_MIB} MiB) ${rssFlat ? 'flat' : 'GROWING'}`,
      `  main-thread heap used ${(heapGrowth / MIB).toFixed(1)} MiB (reported, not judged: it saws with GC)`,
      `  active handles ${handleGrowth.toFixed(1)} (bound ${HANDLE_GROWTH_BOUND}) ${handlesFlat ? 'flat' : 'GROWING'}`,
      `answers other than 201 or failed requests over the whole run: ${failures}`,
    ],
  };
}

async function soak(server: RunningServer, bodies: Buffer[], options: Options): Promise<Sample[]> {
  const metricsUrl = new URL('/metrics', server.url).toString();
  const load = new SteadyLoad(new URL(server.url), bodies, options.rate);
  const samples: Sample[] = [];
  const started = Date.now();
  const end = started + options.minutes * 60_000;
  try {
    while (Date.now() < end) {
      await sleep(Math.min(options.sampleSeconds * 1000, end - Date.now()));
      const seconds = (Date.now() - started) / 1000;
      const previous = samples.length > 0 ? samples[samples.length - 1].seconds : 0;
      samples.push(await sample(metricsUrl, seconds, seconds - previous, load.takeTally()));
      const last = samples[samples.length - 1];
      console.log(`  ${last.seconds.toFixed(0)} s: RSS ${(last.rssBytes / MIB).toFixed(1)} MiB, handles ${last.activeHandles}, ${last.tally.created} × 201`);
    }
  } finally {
    load.stop();
  }
  return samples;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  stopChildrenOnSignal();
  const bodies = generateBodies(WORKLOAD);
  console.log(`soak: ${options.minutes} min, ${options.rate} requests/s of ${WORKLOAD.name} (${meanBytes(bodies)} bytes mean), null sink, sample every ${options.sampleSeconds} s`);
  const server = await startSluice(REPO_ROOT, await freePort(), NULL_CONFIG, { target: 'sluice (null sink)' });
  let samples: Sample[];
  try {
    samples = await soak(server, bodies, options);
  } finally {
    await stopServer(server);
  }
  console.log('');
  printTable(samples);
  const v = verdict(samples);
  console.log('');
  for (const line of v.lines) console.log(line);
  console.log(`verdict: ${v.flat ? 'flat' : 'growing'}`);
  if (!v.flat) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
