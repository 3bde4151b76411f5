// The bench's "CPU idle" figure (bench/targets.ts, report.ts): the share of the machine's CPU time
// nothing used during a run, which tells a latency-bound case from a CPU-bound one.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makePlan } from '../../bench/plan';
import { formatTable, summarize, type BenchReport, type Run } from '../../bench/report';
import { cpuTicks, idleShare } from '../../bench/targets';

function run(machineIdleShare: number | null): Run {
  const latencyMs = { mean: 1, max: 2, p50: 1, p90: 1, p99: 2, p99_9: 2 };
  return { requestsPerSecond: 1000, eventsPerSecond: 1000, latencyMs, requests: 5000, non2xx: 0, socketErrors: 0, cpuMicrosPerEvent: 10, mainGcMsPerSecond: null, serverP99AtMostMs: null, serverShareOver5Ms: null, machineIdleShare, wrkReport: '' };
}

describe('bench CPU idle share', () => {
  it('is the idle ticks over all ticks between two readings', () => {
    assert.equal(idleShare({ idle: 100, total: 1000 }, { idle: 150, total: 1200 }), 0.25);
    assert.equal(idleShare({ idle: 100, total: 1000 }, { idle: 100, total: 1000 }), null, 'no tick passed');
    assert.equal(idleShare(null, { idle: 1, total: 2 }), null);
  });

  it('reads this machine’s /proc/stat: counters that only grow, idle within the total', async () => {
    const before = cpuTicks();
    assert.ok(before, 'Linux has /proc/stat');
    const spinUntil = Date.now() + 60;
    while (Date.now() < spinUntil); // at least one tick of busy time passes
    const after = cpuTicks()!;
    assert.ok(after.total > before.total && after.idle >= before.idle);
    const share = idleShare(before, after)!;
    assert.ok(share >= 0 && share < 1, `share ${share}`);
  });

  it('reports the median of the runs that have it, as a percentage in the table', () => {
    const c = makePlan(true, ['sluice']).cases.find((x) => x.target === 'sluice')!;
    const m = summarize(c, [run(0.3), run(null), run(0.1), run(0.16)], 250, null, 100, true);
    assert.equal(m.median.machineIdleShare, 0.16);
    const report = { measurements: [m], ratios: [], targets: [], failures: [], rotation: null } as unknown as BenchReport;
    const [header, , row] = formatTable(report).split('\n');
    const column = header!.split(/\s{2,}/).indexOf('CPU idle');
    assert.ok(column > 0, header);
    assert.equal(row!.trim().split(/\s{2,}/)[column], '16 %');
  });
});
