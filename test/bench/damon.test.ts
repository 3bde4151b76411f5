// The kernel's DAMON monitors in the bench (bench/damon.ts): found from sysfs, their threads' CPU time
// read around each run, and named beside the p99 target, since their samples take a core at a time.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { damonCpuSeconds, damonReading, describeDamon, runningDamonMonitors } from '../../bench/damon';
import { checkTargets } from '../../bench/goals';
import { makePlan } from '../../bench/plan';
import { summarize } from '../../bench/report';
import { benchRun } from '../helpers/bench-run';
import { makeTempDir } from '../helpers/server';

/** A kdamond directory as sysfs lays it out, with one context and its schemes' actions. */
function writeKdamond(root: string, index: number, state: string, pid: number, operations: string, sampleMicros: number, actions: string[]): void {
  const kdamond = path.join(root, String(index));
  const context = path.join(kdamond, 'contexts', '0');
  const intervals = path.join(context, 'monitoring_attrs', 'intervals');
  fs.mkdirSync(intervals, { recursive: true });
  fs.writeFileSync(path.join(kdamond, 'state'), `${state}\n`);
  fs.writeFileSync(path.join(kdamond, 'pid'), `${pid}\n`);
  fs.writeFileSync(path.join(kdamond, 'contexts', 'nr_contexts'), '1\n');
  fs.writeFileSync(path.join(context, 'operations'), `${operations}\n`);
  fs.writeFileSync(path.join(intervals, 'sample_us'), `${sampleMicros}\n`);
  actions.forEach((action, i) => {
    fs.mkdirSync(path.join(context, 'schemes', String(i)), { recursive: true });
    fs.writeFileSync(path.join(context, 'schemes', String(i), 'action'), `${action}\n`);
  });
}

describe('bench: the kernel DAMON monitors', () => {
  let root: string;
  before(() => {
    root = makeTempDir('sluice-damon-');
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('lists the running kdamonds with what they watch, how often and what they do; not the stopped ones', () => {
    writeKdamond(root, 0, 'on', 83, 'paddr', 500_000, ['pageout']);
    writeKdamond(root, 1, 'off', -1, 'vaddr', 5_000, []);
    const monitors = runningDamonMonitors(root);
    assert.deepEqual(monitors, [{ pid: 83, operations: ['paddr'], sampleMicros: [500_000], actions: ['pageout'] }]);
    assert.equal(describeDamon(monitors), 'kdamond 83 (paddr, pageout) samples every 500 ms');
    assert.deepEqual(runningDamonMonitors(path.join(root, 'absent')), [], 'no DAMON: none');
  });

  it("reads a thread's time on a CPU from schedstat, and null for a thread that is gone", () => {
    const spinUntil = Date.now() + 20;
    while (Date.now() < spinUntil); // this thread has run at least 20 ms
    const seconds = damonCpuSeconds([{ pid: process.pid, operations: [], sampleMicros: [], actions: [] }]);
    assert.ok(seconds !== null && seconds >= 0.02, `${seconds} s on a CPU`);
    assert.equal(damonCpuSeconds([{ pid: 2 ** 22 + 1, operations: [], sampleMicros: [], actions: [] }]), null, 'above pid_max: no such thread');
    assert.equal(damonCpuSeconds([]), 0);
  });

  it('times the running monitors over a run: ms per second, null without one', () => {
    // This thread stands in for a kdamond: the reading is its time on a CPU over the run's seconds.
    const withThisThread = makeTempDir('sluice-damon-');
    writeKdamond(withThisThread, 0, 'on', process.pid, 'paddr', 500_000, ['pageout']);
    const me = [{ pid: process.pid, operations: [], sampleMicros: [], actions: [] }];
    const reading = damonReading(withThisThread);
    const start = damonCpuSeconds(me)!;
    while (damonCpuSeconds(me)! - start < 0.05); // 50 ms on a CPU, however long that takes on a busy machine
    const msPerSecond = reading(0.5);
    assert.ok(msPerSecond !== null && msPerSecond >= 100 && msPerSecond < 200, `${msPerSecond} ms/s for 50 ms on a CPU over 0.5 s`);
    fs.rmSync(withThisThread, { recursive: true, force: true });
    assert.equal(damonReading(path.join(root, 'absent'))(1), null, 'no monitor: no figure');
  });

  it('gives the median ms/s it ran beside the p99 target at 80 % of peak', () => {
    const at80 = makePlan(false, ['sluice']).cases.find((c) => c.target === 'sluice' && c.load.kind === 'open' && c.load.share === 0.8 && c.workload === 'trivial1')!;
    const runs = [benchRun({ damonMsPerSecond: 6.2 }), benchRun({ damonMsPerSecond: null }), benchRun({ damonMsPerSecond: 4.4 }), benchRun({ damonMsPerSecond: 7.9 })];
    const target = checkTargets([summarize(at80, runs, 250, 28_000, 100, true)]).find((t) => t.goal.startsWith('80% of peak'))!;
    assert.match(target.measured, /the kernel's DAMON monitor ran 6\.2 ms\/s/);
    const without = checkTargets([summarize(at80, [benchRun()], 250, 28_000, 100, true)]).find((t) => t.goal.startsWith('80% of peak'))!;
    assert.doesNotMatch(without.measured, /DAMON/, 'no monitor, no mention');
  });
});
