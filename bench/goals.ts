// Issue 6's performance targets, checked against the medians of one run. A target whose cases were not
// in this run (e.g. --quick) is "not measured", never "met".

import { findClosed, ms, percent, whole, type CpuWait, type Measurement, type RotationResult, type TargetCheck } from './report';
import { TASK_STAGES, type TaskStage } from './targets';

function check(goal: string, m: Measurement | undefined, met: (m: Measurement) => boolean, measured: (m: Measurement) => string): TargetCheck {
  return m ? { goal, met: met(m), measured: measured(m) } : { goal, met: null, measured: 'case not in this run' };
}

/** The Kafka target's latency bound. */
const KAFKA_P99_MS = 50;
/** The latency target's bound at 80 % of peak (null sink, 1 event/req). */
export const P99_TARGET_MS = 5;

/**
 * 1 event/req at ≥ 50 % of the ceiling: judged on the rotation's median when the run has one (runs
 * seconds apart), else on the separate cases; both are shown.
 */
function ceilingShare(measurements: Measurement[], rotation: RotationResult | null): TargetCheck {
  const goal = '1 event/req, null sink ≥ 50% of the HTTP ceiling';
  const sluice1 = findClosed(measurements, 'sluice', 'trivial1', 100);
  const ceiling1 = findClosed(measurements, 'ceiling', 'trivial1', 100);
  const separate = sluice1 && ceiling1 ? sluice1.median.requestsPerSecond / ceiling1.median.requestsPerSecond : null;
  const rotated = rotation?.medianRatio.sluice ?? null;
  if (rotated === null && separate === null) return { goal, met: null, measured: 'case not in this run' };
  const parts: string[] = [];
  if (rotated !== null) {
    const bare = rotation!.medianRatio['bare-split'];
    parts.push(`${percent(rotated)}, median of ${rotation!.rounds.length} rounds in rotation with the ceiling${bare === undefined ? '' : ` (the bare split: ${percent(bare)})`}`);
  }
  if (separate !== null) parts.push(`${percent(separate)} from the separate cases`);
  return { goal, met: (rotated ?? separate!) >= 0.5, measured: parts.join('; ') };
}

/** `batching 0.45, to_worker 0.09, worker 0.19, to_main 0.06 ms`: the stage names as Sluice's metric has them. */
function stageMeans(means: Record<TaskStage, number>): string {
  return `${TASK_STAGES.map((stage) => `${stage} ${means[stage].toFixed(2)}`).join(', ')} ms`;
}

/** `waiting for a CPU, per request: Sluice's HTTP thread 5.8 µs, …`: run-queue time, the contention behind the tail. */
function cpuWaits(wait: CpuWait): string {
  const generator = wait.generator === null ? '' : `, the load generator ${wait.generator.toFixed(1)} µs`;
  return `waiting for a CPU, per request: Sluice's HTTP thread ${wait.main.toFixed(1)} µs, its other threads ${wait.other.toFixed(1)} µs${generator}`;
}

/** The p99 target's case: `target` in an open loop at 80 % of `of`'s peak, 1 event/req. */
export function isOpenAt80(m: Measurement, target: string, of: string): boolean {
  const { load } = m.case;
  return m.case.target === target && m.case.workload === 'trivial1' && load.kind === 'open' && load.share === 0.8 && load.of.target === of;
}

/** `; bare uWS at 80 % of its own peak (45,000 requests/s): p99 4.02 ms`, or nothing when the case was not run. */
function atOwn80(server: string, m: Measurement | undefined): string {
  return m ? `; ${server} at 80 % of its own peak (${whole(m.offeredRequestsPerSecond ?? 0)} requests/s): p99 ${ms(m.median.latencyMs.p99)}` : '';
}

/**
 * The guaranteed Kafka case the target is judged on. Its connection count is the user's choice: the
 * most events/s among the cases with p99 < 50 ms, else (none has) the one with the lowest p99.
 */
function kafkaGuaranteed(measurements: Measurement[]): Measurement | undefined {
  const cases = measurements.filter((m) => m.case.target === 'kafka' && m.case.workload === 'trivial50' && m.case.load.kind === 'closed');
  const withinP99 = cases.filter((m) => m.median.latencyMs.p99 < KAFKA_P99_MS).sort((a, b) => b.median.eventsPerSecond - a.median.eventsPerSecond);
  return withinP99[0] ?? cases.sort((a, b) => a.median.latencyMs.p99 - b.median.latencyMs.p99)[0];
}

export function checkTargets(measurements: Measurement[], rotation: RotationResult | null = null): TargetCheck[] {
  const sluice50 = findClosed(measurements, 'sluice', 'trivial50', 100);
  const naive50 = findClosed(measurements, 'naive', 'trivial50', 100);
  const sluice1 = findClosed(measurements, 'sluice', 'trivial1', 100);
  const kafka = kafkaGuaranteed(measurements);
  const openAt80 = (target: string, of: string): Measurement | undefined => measurements.find((m) => isOpenAt80(m, target, of));
  const at80 = openAt80('sluice', 'sluice');
  const ceilingAt80 = openAt80('ceiling-open', 'sluice');
  const bareSplitAt80 = openAt80('bare-split-open', 'sluice');
  const ceilingAtOwn80 = openAt80('ceiling', 'ceiling');
  const bareSplitAtOwn80 = openAt80('bare-split', 'bare-split');
  const thousand = measurements.filter((m) => m.case.target === 'sluice' && m.case.connections === 1000 && m.peakRssMiB !== null);
  const peakAtThousand = thousand.length ? thousand.reduce((a, b) => (a.peakRssMiB! >= b.peakRssMiB! ? a : b)) : undefined;
  return [
    check('50 events/req, null sink ≥ 400,000 events/s', sluice50, (m) => m.median.eventsPerSecond >= 400_000, (m) => `${whole(m.median.eventsPerSecond)} events/s`),
    check(
      '50 events/req, null sink ≥ 10× the naive gateway',
      sluice50 && naive50 ? sluice50 : undefined,
      (m) => m.median.eventsPerSecond >= 10 * naive50!.median.eventsPerSecond,
      (m) => `${(m.median.eventsPerSecond / naive50!.median.eventsPerSecond).toFixed(2)}×`,
    ),
    check('1 event/req, null sink ≥ 80,000 requests/s', sluice1, (m) => m.median.requestsPerSecond >= 80_000, (m) => `${whole(m.median.requestsPerSecond)} requests/s`),
    ceilingShare(measurements, rotation),
    check(
      'Kafka guaranteed, 50 events/req ≥ 150,000 events/s with p99 < 50 ms',
      kafka,
      (m) => m.median.eventsPerSecond >= 150_000 && m.median.latencyMs.p99 < KAFKA_P99_MS,
      (m) => `${whole(m.median.eventsPerSecond)} events/s, p99 ${ms(m.median.latencyMs.p99)} at ${m.case.connections} connections`,
    ),
    check(
      '80% of peak arrival rate, 1 event/req, null sink: p99 < 5 ms',
      at80,
      (m) => m.median.latencyMs.p99 < P99_TARGET_MS,
      (m) =>
        `p99 ${ms(m.median.latencyMs.p99)} at ${whole(m.offeredRequestsPerSecond ?? 0)} requests/s offered` +
        (m.median.serverShareOver5Ms === null ? '' : `; Sluice's own histogram (handler to reply): ${(100 * m.median.serverShareOver5Ms).toFixed(2)} % of requests over ${P99_TARGET_MS} ms`) +
        (m.median.sendLagP99Ms === null || m.median.inFlightP99Ms === null || m.median.connectionsExhaustedShare === null
          ? ''
          : `; its parts: sent late by the load generator p99 ${ms(m.median.sendLagP99Ms)} (all ${m.case.connections} connections busy with requests due ${percent(m.median.connectionsExhaustedShare)} of the time), sent → answered p99 ${ms(m.median.inFlightP99Ms)}`) +
        (m.median.taskStageMeanMs === null ? '' : `; Sluice's worker tasks, mean per stage: ${stageMeans(m.median.taskStageMeanMs)}`) +
        (m.median.machineIdleShare === null ? '' : `; the machine's CPUs busy ${percent(1 - m.median.machineIdleShare)}`) +
        (m.median.cpuWaitMicrosPerRequest === null ? '' : `; ${cpuWaits(m.median.cpuWaitMicrosPerRequest)}`) +
        (m.median.machineStealShare === null ? '' : `; CPU stolen by the hypervisor: ${percent(m.median.machineStealShare)}`) +
        (m.median.damonMsPerSecond === null ? '' : `; the kernel's DAMON monitor ran ${m.median.damonMsPerSecond.toFixed(1)} ms/s`) +
        (ceilingAt80 ? `; bare uWS at that rate: p99 ${ms(ceilingAt80.median.latencyMs.p99)}` : '') +
        (bareSplitAt80 ? `; the bare split: p99 ${ms(bareSplitAt80.median.latencyMs.p99)}` : '') +
        atOwn80('bare uWS', ceilingAtOwn80) +
        atOwn80('the bare split', bareSplitAtOwn80),
    ),
    check('peak RSS < 400 MB at 1,000 connections', peakAtThousand, (m) => m.peakRssMiB! * 2 ** 20 < 400e6, (m) => `${m.peakRssMiB!.toFixed(0)} MiB`),
  ];
}
