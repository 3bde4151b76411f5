/**
 * A task's time across the hand-off between threads (sluice_task_stage_seconds): the clock the
 * stamps come from is the same in a worker thread as in the main thread, and a result carries when
 * the worker started and finished the task.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { sharedClockMs } from '../../src/batching/shared-clock';
import { TaskResult } from '../../src/batching/wire';
import { ResultBuilder } from '../../workers/result-builder';

const SHARED_CLOCK_MODULE = path.resolve(__dirname, '../../src/batching/shared-clock.js');

/** A worker thread's sharedClockMs(), between two readings of the main thread's. */
async function readInWorker(): Promise<{ before: number; inWorker: number; after: number }> {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads'); const m = require(${JSON.stringify(SHARED_CLOCK_MODULE)});
     parentPort.once('message', () => parentPort.postMessage(m.sharedClockMs()));`,
    { eval: true },
  );
  try {
    await new Promise((resolve) => worker.once('online', resolve));
    const before = sharedClockMs();
    const reply = new Promise<number>((resolve) => worker.once('message', resolve));
    worker.postMessage('now');
    const inWorker = await reply;
    return { before, inWorker, after: sharedClockMs() };
  } finally {
    await worker.terminate();
  }
}

describe('task timing across threads', () => {
  it("a worker thread's sharedClockMs falls between two of the main thread's", async () => {
    const { before, inWorker, after } = await readInWorker();
    assert.ok(before <= inWorker && inWorker <= after, `${before} <= ${inWorker} <= ${after}`);
  });

  it('a result carries when the worker started the task and when it finished writing it', () => {
    const startedAt = sharedClockMs();
    const out = new ResultBuilder(1, undefined, startedAt);
    out.valid(0, 'stream');
    const beforeBuild = sharedClockMs();
    const result = new TaskResult(out.build());
    const afterBuild = sharedClockMs();
    assert.equal(result.workerStartedAt, startedAt);
    assert.ok(beforeBuild <= result.workerFinishedAt && result.workerFinishedAt <= afterBuild, `${beforeBuild} <= ${result.workerFinishedAt} <= ${afterBuild}`);
    assert.equal(result.requests[1], 1, 'the rest of the result still reads back');
  });
});
