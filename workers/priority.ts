import { getPriority, setPriority } from 'node:os';

/** The lowest priority Linux has. */
const MAX_NICE = 19;

/**
 * Lowers the calling worker thread's CPU priority by `niceness` steps below the thread that started
 * it. With workers, the HTTP thread and (in the bench) the load generator on two cores, waking a worker
 * for a task used to preempt the HTTP thread, which every request has to pass through twice; a worker
 * that ranks lower runs in the gaps instead, and still gets all the CPU nobody else wants.
 *
 * Linux only: there `setpriority(PRIO_PROCESS, 0, …)` applies to the calling thread alone; elsewhere it
 * would lower the whole process, so nothing is changed.
 */
export function lowerThreadPriority(niceness: number): void {
  if (niceness === 0 || process.platform !== 'linux') return;
  try {
    // Relative to the inherited value: an operator's `nice sluice` keeps its meaning for the workers too.
    setPriority(0, Math.min(MAX_NICE, getPriority(0) + niceness));
  } catch (err) {
    // Only a speed-up is lost (a sandbox may forbid the call): warn on stderr, keep validating.
    process.emitWarning(`pool.worker_nice not applied: ${(err as Error).message}`);
  }
}
