// One run of a bench case as the report's code takes it: round figures, every optional reading absent,
// so a test sets only the fields it is about.

import type { Run } from '../../bench/report';

export function benchRun(fields: Partial<Run> = {}): Run {
  return {
    requestsPerSecond: 1000,
    eventsPerSecond: 1000,
    latencyMs: { mean: 1, max: 2, p50: 1, p90: 1, p99: 2, p99_9: 2 },
    requests: 5000,
    non2xx: 0,
    socketErrors: 0,
    cpuMicrosPerEvent: 10,
    mainGcMsPerSecond: null,
    serverP99AtMostMs: null,
    serverShareOver5Ms: null,
    sendLagP99Ms: null,
    inFlightP99Ms: null,
    connectionsExhaustedShare: null,
    taskStageMeanMs: null,
    machineIdleShare: null,
    machineStealShare: null,
    damonMsPerSecond: null,
    cpuWaitMicrosPerRequest: null,
    wrkReport: '',
    ...fields,
  };
}
