/**
 * src/thread-cpu-wait.ts: how long Sluice's threads waited for a CPU (Linux schedstat), the figure
 * behind `sluice_cpu_wait_seconds_total` and the bench's per-run waits.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ThreadCpuWait, runQueueWaitSeconds, threadKind } from '../../src/thread-cpu-wait';

describe('threads waiting for a CPU', () => {
  it('parses a schedstat line: on-CPU ns, waiting ns, timeslices', () => {
    assert.equal(runQueueWaitSeconds('9672000000 5770000000 31106\n'), 5.77);
    assert.ok(Number.isNaN(runQueueWaitSeconds('')), 'no schedstat: unknown, not zero');
  });

  it('tells the main thread, librdkafka’s rdk: threads and the rest apart', () => {
    assert.equal(threadKind(100, 100, 'node'), 'main');
    assert.equal(threadKind(101, 100, 'rdk:broker1'), 'librdkafka');
    assert.equal(threadKind(102, 100, 'node'), 'other');
  });

  it('adds up what the threads waited while more of them spin than there are cores, and never goes down', async () => {
    const cpuWait = ThreadCpuWait.open();
    assert.ok(cpuWait, 'Linux keeps schedstat for every thread');
    const before = { ...cpuWait.read() };
    // One more spinning thread than there are cores: together they are runnable longer than the cores
    // can run them, so the run queue holds the difference. The main thread spins too, then waits for
    // them to exit: their wait must stay in the totals after they are gone.
    const spinMs = 300;
    const workers = Array.from({ length: availableParallelism() + 1 }, () => new Worker(`const until = Date.now() + ${spinMs}; while (Date.now() < until);`, { eval: true }));
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('online', resolve))));
    const until = Date.now() + spinMs / 2;
    while (Date.now() < until);
    const during = { ...cpuWait.read() };
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve))));
    const after = cpuWait.read();

    assert.ok(during.other - before.other >= 0.01, `spinning workers waited ${during.other - before.other} s`);
    assert.ok(during.main + during.other - before.main - before.other >= 0.02, 'the spinning main thread and workers waited in all');
    for (const kind of ['main', 'librdkafka', 'other'] as const) {
      assert.ok(during[kind] >= before[kind] && after[kind] >= during[kind], `${kind}: ${before[kind]} → ${during[kind]} → ${after[kind]}`);
    }
    assert.equal(after.librdkafka, 0, 'no librdkafka threads in this process');
  });
});
