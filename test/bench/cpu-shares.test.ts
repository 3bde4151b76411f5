// The bench's "CPU idle" and "CPU stolen" figures (bench/targets.ts, report.ts): the shares of the
// machine's CPU time nothing used and the hypervisor took during a run. Idle tells a latency-bound case
// from a CPU-bound one; stolen tells a slow run from a machine that was not all there.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTargets } from '../../bench/goals';
import { makePlan } from '../../bench/plan';
import { formatTable, MAX_SET_ASIDE_RUNS, measureUndisturbed, overStealLimit, summarize, type BenchReport, type Run } from '../../bench/report';
import { cpuTicks, idleShare, stealShare, withStolenShare } from '../../bench/targets';
import { benchRun } from '../helpers/bench-run';

function run(machineIdleShare: number | null, machineStealShare: number | null): Run {
  return benchRun({ machineIdleShare, machineStealShare });
}

describe('bench CPU idle and stolen shares', () => {
  it('are their ticks over all ticks between two readings', () => {
    const before = { idle: 100, steal: 10, total: 1000 };
    const after = { idle: 150, steal: 30, total: 1200 };
    assert.equal(idleShare(before, after), 0.25);
    assert.equal(stealShare(before, after), 0.1);
    assert.equal(idleShare(before, before), null, 'no tick passed');
    assert.equal(stealShare(before, before), null, 'no tick passed');
    assert.equal(idleShare(null, after), null);
    assert.equal(stealShare(before, null), null);
  });

  it('read this machine’s /proc/stat: counters that only grow, idle and stolen within the total', async () => {
    const before = cpuTicks();
    assert.ok(before, 'Linux has /proc/stat');
    const spinUntil = Date.now() + 60;
    while (Date.now() < spinUntil); // at least one tick of busy time passes
    const after = cpuTicks()!;
    assert.ok(after.total > before.total && after.idle >= before.idle && after.steal >= before.steal);
    const idle = idleShare(before, after)!;
    const steal = stealShare(before, after)!;
    assert.ok(idle >= 0 && steal >= 0 && idle + steal < 1, `idle ${idle}, stolen ${steal}`);
  });

  it('are read around a piece of work, whose result comes back with the share stolen meanwhile', async () => {
    const { result, stolen } = await withStolenShare(async () => {
      const spinUntil = Date.now() + 60;
      while (Date.now() < spinUntil); // at least one tick passes
      return 'done';
    });
    assert.equal(result, 'done');
    assert.ok(stolen !== null && stolen >= 0 && stolen < 1, `stolen ${stolen}`);
  });

  it('report the median of the runs that have them, as percentages in the table', () => {
    const c = makePlan(true, ['sluice']).cases.find((x) => x.target === 'sluice')!;
    const m = summarize(c, [run(0.3, 0.002), run(null, null), run(0.1, 0.0876), run(0.16, 0.0126)], 250, null, 100, true);
    assert.equal(m.median.machineIdleShare, 0.16);
    assert.equal(m.median.machineStealShare, 0.0126);
    const report = { measurements: [m], ratios: [], targets: [], failures: [], rotation: null } as unknown as BenchReport;
    const [header, , row] = formatTable(report).split('\n');
    const cells = row!.trim().split(/\s{2,}/);
    const column = (name: string): number => {
      const index = header!.split(/\s{2,}/).indexOf(name);
      assert.ok(index > 0, `${name} in ${header}`);
      return index;
    };
    assert.equal(cells[column('CPU idle')], '16 %');
    assert.equal(cells[column('CPU stolen')], '1.3 %');
  });

  it('are given beside the p99 target at 80 % of peak, where a little steal is overload, with the open loop’s two parts, Sluice’s task stages and the waits for a CPU', () => {
    const at80 = makePlan(false, ['sluice']).cases.find((x) => x.target === 'sluice' && x.load.kind === 'open' && x.load.share === 0.8 && x.workload === 'trivial1')!;
    const stages = (worker: number) => ({ batching: 0.45, to_worker: 0.09, worker, to_main: 0.06 });
    const parts = { sendLagP99Ms: 3.61, inFlightP99Ms: 3.36, connectionsExhaustedShare: 0.045 };
    const waits = (main: number, generator: number | null) => ({ main, other: 7, generator });
    const runs = [
      { ...run(0.25, 0.0876), ...parts, taskStageMeanMs: stages(0.19), cpuWaitMicrosPerRequest: waits(5.8, 9.25) },
      { ...run(0.25, 0.0876), ...parts, taskStageMeanMs: null, cpuWaitMicrosPerRequest: null },
      { ...run(0.25, 0.0876), ...parts, taskStageMeanMs: stages(0.37), cpuWaitMicrosPerRequest: waits(4.1, null) },
      { ...run(0.25, 0.0876), ...parts, taskStageMeanMs: stages(0.21), cpuWaitMicrosPerRequest: waits(6.3, 12.15) },
    ];
    const m = summarize(at80, runs, 250, 28_000, 100, true);
    const target = checkTargets([m]).find((t) => t.goal.startsWith('80% of peak'))!;
    assert.match(target.measured, /Sluice's worker tasks, mean per stage: batching 0\.45, to_worker 0\.09, worker 0\.21, to_main 0\.06 ms/, 'each stage the median of the runs that have it');
    assert.match(target.measured, /CPU stolen by the hypervisor: 8\.8 %/);
    assert.match(target.measured, /the machine's CPUs busy 75\.0 %/);
    assert.match(
      target.measured,
      /waiting for a CPU, per request: Sluice's HTTP thread 5\.8 µs, its other threads 7\.0 µs, the load generator 10\.7 µs/,
      'each the median of the runs that have it (the generator: of two)',
    );
    assert.match(target.measured, /sent late by the load generator p99 3\.61 ms \(all 100 connections busy with requests due 4\.5 % of the time\), sent → answered p99 3\.36 ms/);
  });
});

describe('bench runs the hypervisor disturbed', () => {
  /** A measure that hands out runs with these stolen shares, one per call, and counts the calls. */
  function measuring(steals: Array<number | null>): { measure: () => Promise<Run>; calls: () => number } {
    let next = 0;
    return { measure: async () => run(null, steals[next++]!), calls: () => next };
  }
  const steal = (runs: Run[]): Array<number | null> => runs.map((r) => r.machineStealShare);

  it('are set aside over 5 % stolen and measured again; 5 % itself and an unknown share are kept', async () => {
    const { measure, calls } = measuring([0.02, 0.3, 0.051, 0.05, null, 0.9]);
    const told: Run[] = [];
    const { kept: runs, setAside } = await measureUndisturbed(3, measure, (r) => r.machineStealShare, (r) => told.push(r));
    assert.deepEqual(steal(runs), [0.02, 0.05, null]);
    assert.deepEqual(steal(setAside), [0.3, 0.051]);
    assert.deepEqual(told, setAside, 'each one told as it is set aside');
    assert.equal(calls(), 5, 'no run past the third kept one');
    assert.deepEqual([0.051, 0.05, null].map(overStealLimit), [true, false, false]);
  });

  it('are kept once a case has set aside its share, so a spell that lasts still ends the case', async () => {
    const { measure, calls } = measuring(Array.from({ length: 10 }, () => 0.2));
    const { kept: runs, setAside } = await measureUndisturbed(3, measure, (r) => r.machineStealShare, () => undefined);
    assert.equal(setAside.length, MAX_SET_ASIDE_RUNS);
    assert.deepEqual(steal(runs), [0.2, 0.2, 0.2]);
    assert.equal(calls(), 3 + MAX_SET_ASIDE_RUNS);
  });

  it('stay out of the medians and are listed under the table with what was stolen and their p99', () => {
    const c = makePlan(true, ['sluice']).cases.find((x) => x.target === 'sluice')!;
    const slow = benchRun({ machineStealShare: 0.257, requestsPerSecond: 10, latencyMs: { mean: 900, max: 1700, p50: 910, p90: 1500, p99: 1635.12, p99_9: 1662 } });
    const kept = [benchRun({ machineStealShare: 0.01 }), benchRun({ machineStealShare: 0.002 }), benchRun({ machineStealShare: 0.0 })];
    const m = summarize(c, kept, 250, null, 100, true, [slow]);
    assert.equal(m.median.requestsPerSecond, 1000);
    assert.equal(m.median.latencyMs.p99, 2);
    assert.equal(m.median.machineStealShare, 0.002);
    assert.equal(m.requests, 15_000, 'the requests of the kept runs');
    const table = (measurement: typeof m): string =>
      formatTable({ measurements: [measurement], ratios: [], targets: [], failures: [], rotation: null } as unknown as BenchReport);
    assert.match(table(m), /runs set aside and measured again, the hypervisor having stolen over 5 % of the CPU \(in no figure above\):\n {2}sluice · 1 event\/req · 100 conn: 25\.7 % stolen, p99 1635\.12 ms/);
    assert.doesNotMatch(table(summarize(c, kept, 250, null, 100, true)), /set aside/);
  });
});
