// The kernel's DAMON memory monitors (kdamond threads), which the bench reports beside its open loops.
// On the project's VM one runs in physical-address mode with a pageout scheme, set by the host and not
// ours to switch off (writing its state is refused): every 500 ms it samples the whole memory and
// holds one of the two vCPUs for 1–7 ms; at 80 % of Sluice's peak, 54 and 78 % of the requests over
// 5 ms came during one in two traced runs (bench/RESULTS.md, 2026-12-07 sixth). A run's tail is read
// with that in view.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { readOnCpuSeconds } from '../src/thread-cpu-wait';

const KDAMONDS = '/sys/kernel/mm/damon/admin/kdamonds';

export interface DamonMonitor {
  /** The kdamond thread's pid. */
  pid: number;
  /** What it watches: `paddr` (all physical memory), `vaddr` (processes' address spaces). */
  operations: string[];
  /** Microseconds between two samples of the watched memory, per context. */
  sampleMicros: number[];
  /** What its schemes do to memory they find cold, e.g. `pageout`. */
  actions: string[];
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

function subdirectories(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((name) => /^\d+$/.test(name)).map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

/** The DAMON monitors running now (sysfs interface); empty where there are none or no DAMON. */
export function runningDamonMonitors(root = KDAMONDS): DamonMonitor[] {
  const monitors: DamonMonitor[] = [];
  for (const kdamond of subdirectories(root)) {
    const pid = Number(readText(path.join(kdamond, 'pid')));
    if (readText(path.join(kdamond, 'state')) !== 'on' || !(pid > 0)) continue;
    const contexts = subdirectories(path.join(kdamond, 'contexts'));
    monitors.push({
      pid,
      operations: contexts.map((context) => readText(path.join(context, 'operations')) ?? 'unknown'),
      sampleMicros: contexts.map((context) => Number(readText(path.join(context, 'monitoring_attrs', 'intervals', 'sample_us')))),
      actions: contexts.flatMap((context) => subdirectories(path.join(context, 'schemes')).map((scheme) => readText(path.join(scheme, 'action')) ?? 'unknown')),
    });
  }
  return monitors;
}

/** Seconds the monitors' threads have run on a CPU so far (schedstat); null when one cannot be read. */
export function damonCpuSeconds(monitors: DamonMonitor[]): number | null {
  let total = 0;
  for (const { pid } of monitors) {
    const seconds = readOnCpuSeconds(`/proc/${pid}/schedstat`);
    if (!Number.isFinite(seconds)) return null;
    total += seconds;
  }
  return total;
}

/**
 * Starts timing the monitors running now. The function returned gives the ms per second they ran
 * over `seconds` since; null without a monitor, or when one has stopped or restarted meanwhile.
 */
export function damonReading(root = KDAMONDS): (seconds: number) => number | null {
  const monitors = runningDamonMonitors(root);
  const before = damonCpuSeconds(monitors);
  return (seconds) => {
    const after = damonCpuSeconds(monitors);
    if (monitors.length === 0 || before === null || after === null || seconds <= 0) return null;
    return ((after - before) * 1000) / seconds;
  };
}

/** One line for the bench's header: the running monitors and how often they sample. */
export function describeDamon(monitors: DamonMonitor[]): string {
  return monitors
    .map((m) => `kdamond ${m.pid} (${m.operations.join('/')}, ${m.actions.join('/') || 'monitoring only'}) samples every ${m.sampleMicros.map((us) => `${us / 1000} ms`).join('/')}`)
    .join('; ');
}
