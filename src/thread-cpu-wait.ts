import * as fs from 'node:fs';

/** Sluice's kinds of thread: the main one (HTTP, hand-off, answers), librdkafka's, and the rest (workers, libuv, V8). */
export type ThreadKind = 'main' | 'librdkafka' | 'other';

/** librdkafka names its threads `rdk:main`, `rdk:broker1`, …; Node's threads are all `node`. */
export function threadKind(tid: number, pid: number, name: string): ThreadKind {
  return tid === pid ? 'main' : name.startsWith('rdk:') ? 'librdkafka' : 'other';
}

/**
 * Seconds a thread or process has spent runnable but waiting for a CPU (the run queue), from its
 * `/proc/…/schedstat` (`<on-CPU ns> <waiting ns> <timeslices>`); NaN for text of another shape.
 */
export function runQueueWaitSeconds(schedstat: string): number {
  const fields = schedstat.trim().split(/\s+/);
  return fields.length === 3 ? Number(fields[1]) / 1e9 : NaN;
}

const TASKS = '/proc/self/task';

/**
 * How long this process's threads have waited for a CPU, by kind of thread, since they started: the
 * figure that tells a latency tail caused by a machine short of cores from one caused by Sluice's own
 * work (bench/RESULTS.md, 2026-12-07). Linux only; `open` returns null where schedstat is missing.
 *
 * Threads come and go (a replaced worker, librdkafka's per-broker threads), so the totals are kept
 * here: each reading adds what every thread waited since the last one, and a thread that has exited
 * keeps what it had added, so the totals never go down.
 */
export class ThreadCpuWait {
  private waitedByThread = new Map<number, number>();
  private readonly totals: Record<ThreadKind, number> = { main: 0, librdkafka: 0, other: 0 };

  private constructor() {}

  static open(): ThreadCpuWait | null {
    try {
      return Number.isNaN(runQueueWaitSeconds(fs.readFileSync(`${TASKS}/${process.pid}/schedstat`, 'utf8'))) ? null : new ThreadCpuWait();
    } catch {
      return null;
    }
  }

  /** Seconds waited so far, by kind of thread. Read from the main thread (its tid is the pid). */
  read(): Readonly<Record<ThreadKind, number>> {
    const waited = new Map<number, number>();
    for (const entry of fs.readdirSync(TASKS)) {
      const tid = Number(entry);
      let seconds: number;
      let name: string;
      try {
        seconds = runQueueWaitSeconds(fs.readFileSync(`${TASKS}/${entry}/schedstat`, 'utf8'));
        name = fs.readFileSync(`${TASKS}/${entry}/comm`, 'utf8');
      } catch {
        continue; // the thread exited between the listing and the read
      }
      if (Number.isNaN(seconds)) continue;
      const before = this.waitedByThread.get(tid);
      // Smaller than before: the id was reused by a new thread, whose whole wait is new.
      this.totals[threadKind(tid, process.pid, name)] += before !== undefined && seconds >= before ? seconds - before : seconds;
      waited.set(tid, seconds);
    }
    this.waitedByThread = waited;
    return this.totals;
  }
}
