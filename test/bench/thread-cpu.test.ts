// The per-thread CPU split of the Kafka figures (bench/targets.ts threadCpuSeconds and cpuByThread):
// the HTTP thread, where node-rdkafka's produce() calls and delivery reports run, against librdkafka's
// threads and the rest. kafka-cost.ts reports it for node-rdkafka alone, the bench for each Kafka case.
// The same readings carry each thread's wait for a CPU (schedstat), which the p99 target's line gives.

import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { makePlan } from '../../bench/plan';
import { formatTable, summarize, type BenchReport } from '../../bench/report';
import { cpuByThread, threadCpuSeconds, type ThreadCpu } from '../../bench/targets';
import { benchRun } from '../helpers/bench-run';

function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe('bench per-thread CPU', () => {
  it('charges busy time to the thread that spent it', async () => {
    // A worker thread that spins, then waits to be told to exit, so it is still listed at the second reading.
    const worker = new Worker(
      "const { parentPort } = require('node:worker_threads'); const until = Date.now() + 150; while (Date.now() < until); parentPort.postMessage('spun'); parentPort.once('message', () => process.exit(0));",
      { eval: true },
    );
    await new Promise((resolve) => worker.once('online', resolve));
    const before = threadCpuSeconds(process.pid)!;
    await new Promise((resolve) => worker.once('message', resolve));
    spin(60);
    const after = threadCpuSeconds(process.pid)!;
    worker.postMessage('exit');
    await new Promise((resolve) => worker.once('exit', resolve));

    const main = after.get(process.pid);
    assert.ok(main, 'the main thread is listed under the process id');
    assert.ok(main.name.length > 0);
    const grown = [...after].map(([tid, t]) => ({ tid, by: t.cpuSeconds - (before.get(tid)?.cpuSeconds ?? 0) }));
    assert.ok(grown.every((t) => t.by >= 0), 'CPU counters only grow');
    assert.ok(main.cpuSeconds - before.get(process.pid)!.cpuSeconds >= 0.03, 'the main thread spun for 60 ms');
    const busiestOther = Math.max(...grown.filter((t) => t.tid !== process.pid).map((t) => t.by));
    assert.ok(busiestOther >= 0.08, `a worker thread spun for 150 ms; the busiest other thread shows ${busiestOther} s`);
  });

  it('reads each thread’s wait for a CPU from schedstat: threads that outnumber the cores wait', async () => {
    // One more spinning thread than there are cores: together they are runnable longer than the cores
    // can run them, so the run queue holds the difference (at least ~1/(cores + 1) of the spin).
    const spinners = availableParallelism() + 1;
    const spinMs = 300;
    const workers = Array.from({ length: spinners }, () => new Worker(`const until = Date.now() + ${spinMs}; while (Date.now() < until);`, { eval: true }));
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('online', resolve))));
    const before = threadCpuSeconds(process.pid)!;
    await new Promise((resolve) => setTimeout(resolve, spinMs / 2));
    const after = threadCpuSeconds(process.pid)!;
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))));

    assert.ok([...after.values()].every((t) => Number.isFinite(t.waitSeconds) && t.waitSeconds >= 0), 'Linux keeps schedstat for every thread');
    const waited = cpuByThread(process.pid, before, after, 'waitSeconds');
    const spun = cpuByThread(process.pid, before, after);
    assert.ok(waited.other >= 0.01, `${spinners} spinning threads on ${spinners - 1} cores waited ${waited.other} s in ${spinMs / 2} ms (they ran ${spun.other} s)`);
  });

  it('is null for a process that is gone', () => {
    assert.equal(threadCpuSeconds(2 ** 22 + 1), null, 'above the largest pid Linux hands out');
  });

  it('groups the main thread, librdkafka’s rdk: threads and the rest; a thread new since the first reading counts whole', () => {
    const before: ThreadCpu = new Map([
      [100, { name: 'node', cpuSeconds: 1, waitSeconds: 0.5 }],
      [101, { name: 'rdk:broker1', cpuSeconds: 0.5, waitSeconds: 0 }],
      [102, { name: 'node', cpuSeconds: 2, waitSeconds: 1 }],
    ]);
    const after: ThreadCpu = new Map([
      [100, { name: 'node', cpuSeconds: 1.25, waitSeconds: 0.625 }],
      [101, { name: 'rdk:broker1', cpuSeconds: 0.75, waitSeconds: 0.25 }],
      [102, { name: 'node', cpuSeconds: 3, waitSeconds: 1.5 }],
      [103, { name: 'rdk:main', cpuSeconds: 0.125, waitSeconds: 0.5 }],
    ]);
    assert.deepEqual(cpuByThread(100, before, after), { main: 0.25, librdkafka: 0.375, other: 1 });
    assert.deepEqual(cpuByThread(100, before, after, 'waitSeconds'), { main: 0.125, librdkafka: 0.75, other: 0.5 }, 'the run-queue wait, grouped alike');
  });

  it('prints the split in the Kafka accounting lines', () => {
    const c = makePlan(true, ['kafka']).cases.find((x) => x.target === 'kafka')!;
    const run = benchRun({ requestsPerSecond: 100, eventsPerSecond: 5000, requests: 400, cpuMicrosPerEvent: 11 });
    const m = summarize(c, [run], 12_500, null, 200, true);
    m.kafka = {
      topic: 'test.event',
      status: 201,
      acknowledgedEvents: 20_000,
      producedEvents: 20_000,
      settled: true,
      drainSeconds: 0,
      brokerCpuMicrosPerEvent: 2.1,
      serverCpuMicrosPerEvent: 11.1,
      serverCpuMicrosPerEventByThread: { main: 5.5, librdkafka: 1.25, other: 4.35 },
    };
    const report = { measurements: [m], ratios: [], targets: [], failures: [], rotation: null, kafka: { topic: 'test.event' } } as unknown as BenchReport;
    const line = formatTable(report).split('\n').find((l) => l.includes('in Kafka'));
    assert.ok(line, 'a Kafka accounting line');
    assert.match(line, /all there/);
    assert.match(line, /broker 2\.10, Sluice 11\.10 \(HTTP thread 5\.50, librdkafka 1\.25, workers and the rest 4\.35\)/);
  });
});
