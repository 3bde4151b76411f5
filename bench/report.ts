// The results of one bench run: the table printed at the end, and the JSON kept in bench/results/.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WrkResult } from './wrk';

export interface Measurement {
  target: string;
  workload: string;
  eventsPerRequest: number;
  meanBodyBytes: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  latencyMs: WrkResult['latencyMs'];
  non2xx: number;
  socketErrors: number;
  /** Server CPU (all threads) per event during the measured run; null where /proc is not there. */
  cpuMicrosPerEvent: number | null;
  peakRssMiB: number | null;
  requests: number;
  /** wrk's own text report, kept so a surprising figure can be checked by eye. */
  wrkReport: string;
}

export interface Failure {
  target: string;
  workload?: string;
  error: string;
}

export interface BenchReport {
  startedAt: string;
  mode: 'quick' | 'default';
  settings: { threads: number; connections: number; warmupSeconds: number; measureSeconds: number };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; wrk: string; commit: string; cpuBusyBeforeStart: number | null };
  measurements: Measurement[];
  /** Sluice events/s divided by the ceiling's, per workload. */
  ratios: { workload: string; sluiceOverCeiling: number }[];
  failures: Failure[];
}

export function sluiceOverCeiling(measurements: Measurement[]): BenchReport['ratios'] {
  const ratios: BenchReport['ratios'] = [];
  for (const sluice of measurements.filter((m) => m.target === 'sluice')) {
    const ceiling = measurements.find((m) => m.target === 'ceiling' && m.workload === sluice.workload);
    if (ceiling) ratios.push({ workload: sluice.workload, sluiceOverCeiling: sluice.eventsPerSecond / ceiling.eventsPerSecond });
  }
  return ratios;
}

const whole = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => `${n.toFixed(2)} ms`;
const orDash = (n: number | null, format: (n: number) => string): string => (n === null ? '-' : format(n));

export function formatTable(report: BenchReport): string {
  const header = ['target', 'workload', 'requests/s', 'events/s', 'p50', 'p99', 'p99.9', 'non-2xx', 'sock err', 'CPU µs/event', 'peak RSS', 'vs ceiling'];
  const rows = report.measurements.map((m) => {
    const ratio = report.ratios.find((r) => m.target === 'sluice' && r.workload === m.workload);
    return [
      m.target,
      m.workload,
      whole(m.requestsPerSecond),
      whole(m.eventsPerSecond),
      ms(m.latencyMs.p50),
      ms(m.latencyMs.p99),
      ms(m.latencyMs.p99_9),
      m.non2xx > 0 ? `${m.non2xx} (!)` : '0',
      String(m.socketErrors),
      orDash(m.cpuMicrosPerEvent, (n) => n.toFixed(2)),
      orDash(m.peakRssMiB, (n) => `${n.toFixed(0)} MiB`),
      ratio ? `${(ratio.sluiceOverCeiling * 100).toFixed(1)} %` : '',
    ];
  });
  return alignColumns([header, ...rows]);
}

function alignColumns(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: string[]): string => row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
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
