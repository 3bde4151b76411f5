import * as fs from 'node:fs';

/** Sluice's kinds of thread: the main one (HTTP, hand-off, answers), librdkafka's, and the rest (workers, libuv, V8). */
export type ThreadKind = 'main' | 'librdkafka' | 'other';

/** librdkafka names its threads `rdk:main`, `rdk:broker1`, …; Node's threads are all `node`. */
export function threadKind(tid: number, pid: number, name: string): ThreadKind {
  return tid === pid ? 'main' : name.startsWith('rdk:') ? 'librdkafka' : 'other';
}

/** Field `field` of a `/proc/…/schedstat` (`<on-CPU ns> <waiting ns> <timeslices>`) in seconds; NaN for text of another shape. */
function schedstatSeconds(schedstat: string, field: 0 | 1): number {
  const fields = schedstat.trim().split(/\s+/);
  return fields.length === 3 ? Number(fields[field]) / 1e9 : NaN;
}

/** Seconds a thread or process has spent runnable but waiting for a CPU (the run queue), from its schedstat. */
export function runQueueWaitSeconds(schedstat: string): number {
  return schedstatSeconds(schedstat, 1);
}

/** Field `field` of a schedstat file in seconds; NaN when it cannot be read (the thread has exited, or no schedstat). */
function readSchedstatSeconds(file: string, field: 0 | 1): number {
  try {
    return schedstatSeconds(fs.readFileSync(file, 'utf8'), field);
  } catch {
    return NaN;
  }
}

/** runQueueWaitSeconds of a schedstat file; NaN when it cannot be read. */
export function readRunQueueWaitSeconds(file: string): number {
  return readSchedstatSeconds(file, 1);
}

/** Seconds a thread has run on a CPU, from its schedstat file; NaN when it cannot be read. */
export function readOnCpuSeconds(file: string): number {
  return readSchedstatSeconds(file, 0);
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
  /** Per thread id: its kind (its name is read once) and the wait at the last reading. */
  private threads = new Map<number, { kind: ThreadKind; waited: number }>();
  private readonly totals: Record<ThreadKind, number> = { main: 0, librdkafka: 0, other: 0 };

  private constructor() {}

  static open(): ThreadCpuWait | null {
    return Number.isNaN(readRunQueueWaitSeconds(`${TASKS}/${process.pid}/schedstat`)) ? null : new ThreadCpuWait();
  }

  /** Seconds waited so far, by kind of thread. Read from the main thread (its tid is the pid). */
  read(): Readonly<Record<ThreadKind, number>> {
    const threads = new Map<number, { kind: ThreadKind; waited: number }>();
    for (const entry of fs.readdirSync(TASKS)) {
      const tid = Number(entry);
      const waited = readRunQueueWaitSeconds(`${TASKS}/${entry}/schedstat`);
      if (Number.isNaN(waited)) continue; // the thread exited between the listing and the read
      const known = this.threads.get(tid);
      // Less than before: the id was reused by a new thread, whose whole wait is new.
      const same = known !== undefined && waited >= known.waited ? known : null;
      const kind = same?.kind ?? this.kindOf(tid);
      if (kind === null) continue;
      this.totals[kind] += waited - (same?.waited ?? 0);
      threads.set(tid, { kind, waited });
    }
    this.threads = threads;
    return this.totals;
  }

  /** null when the thread has exited. */
  private kindOf(tid: number): ThreadKind | null {
    try {
      return threadKind(tid, process.pid, fs.readFileSync(`${TASKS}/${tid}/comm`, 'utf8'));
    } catch {
      return null;
    }
  }
}
