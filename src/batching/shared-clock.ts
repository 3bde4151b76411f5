/**
 * Milliseconds on CLOCK_MONOTONIC: one clock for every thread, for timing a task across the hand-off
 * to a worker. (`performance.now()` in a Node 20 worker happens to count from the process's origin
 * too, but the Web's High Resolution Time spec gives each worker an origin of its own.)
 */
export function sharedClockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
