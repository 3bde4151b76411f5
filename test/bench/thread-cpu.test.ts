// bench/targets.ts threadCpuSeconds: the per-thread CPU split kafka-cost.ts reports (the JS thread
// against librdkafka's threads), read from /proc/<pid>/task.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { threadCpuSeconds } from '../../bench/targets';

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
    const before = threadCpuSeconds(process.pid);
    await new Promise((resolve) => worker.once('message', resolve));
    spin(60);
    const after = threadCpuSeconds(process.pid);
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
});
