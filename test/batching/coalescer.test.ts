// The coalescer (src/batching/coalescer.ts): requests become batches at the end of the event-loop turn
// (no sooner than max_batch_delay_us after the previous batch) or at a limit; small batches stay within one worker's task slots, and only a big batch or one kept
// waiting spills over to the others. And the piscina load balancer that goes with it (pool.ts).

import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { setImmediate as turnEnd, setTimeout as sleep } from 'node:timers/promises';
import { Coalescer, type CoalescerOptions, type TaskRunner } from '../../src/batching/coalescer';
import { busiestWithRoom } from '../../src/batching/pool';
import type { IntakeRequest } from '../../src/batching/request';
import { FLAG_GZIP } from '../../src/batching/wire';

function request(id: number, bytes = 100, flags = 0): IntakeRequest {
  return { body: Buffer.alloc(bytes), flags, receivedAt: 0, requestId: `r${id}`, clientIp: '', headers: [], complete: () => undefined };
}

/** Records each task's request ids and batching time; tasks finish only when the test says so. */
class Runner implements TaskRunner {
  readonly tasks: string[][] = [];
  readonly batchedMs: number[] = [];
  private readonly dones: Array<() => void> = [];

  run(requests: IntakeRequest[], done: () => void, batchedMs: number): void {
    this.tasks.push(requests.map((r) => r.requestId));
    this.batchedMs.push(batchedMs);
    this.dones.push(done);
  }

  finish(task: number): void {
    this.dones[task]!();
  }
}

const OPTIONS: CoalescerOptions = {
  maxBatchRequests: 8,
  maxBatchBytes: 1 << 20,
  maxBatchDelayUs: 500,
  maxRunningTasks: 4, // two workers of two slots
  primaryTasks: 2,
  spillBytes: 1000,
  spillToIdleBytes: 1000,
  spillAfterMs: 30,
};

function setUp(options: Partial<CoalescerOptions> = {}): { coalescer: Coalescer; runner: Runner; submit: (...ids: number[]) => void } {
  const runner = new Runner();
  const coalescer = new Coalescer({ ...OPTIONS, ...options }, runner);
  return { coalescer, runner, submit: (...ids) => ids.forEach((id) => coalescer.submit(request(id))) };
}

/**
 * Past the pace: longer than OPTIONS.maxBatchDelayUs since the last batch was sealed. Generous, as libuv
 * may fire a 1 ms timer early (its clock is read once per loop turn) and the pace timer then arms again.
 */
const pastThePace = (): Promise<void> => sleep(5);

/** Requests 1 and 2 a pace apart: two one-request tasks, both primary slots busy. */
async function fillPrimarySlots(submit: (...ids: number[]) => void): Promise<void> {
  submit(1);
  await turnEnd();
  await pastThePace();
  submit(2);
  await turnEnd();
}

describe('Coalescer', () => {
  it('batches the requests of one event-loop turn into one task', async () => {
    const { runner, submit } = setUp();
    submit(1, 2, 3);
    assert.equal(runner.tasks.length, 0, 'nothing starts before the turn ends');
    await turnEnd();
    assert.deepEqual(runner.tasks, [['r1', 'r2', 'r3']]);
  });

  it('paces batches: one a turn at most, and not sooner than max_batch_delay_us after the one before', async () => {
    const { runner, submit } = setUp({ maxBatchRequests: 100 }); // a full batch goes at once, paced or not
    const run = runner.run.bind(runner);
    runner.run = (requests, done, batchedMs) => {
      run(requests, done, batchedMs);
      done(); // the worker is instant: only the pace holds batches back
    };
    const start = performance.now();
    for (let id = 1; id <= 40; id++) {
      submit(id);
      await turnEnd();
    }
    await pastThePace(); // the last batch is sealed by the pace timer if no request came after it
    const elapsedMs = performance.now() - start;
    assert.deepEqual(runner.tasks.flat(), Array.from({ length: 40 }, (_, i) => `r${i + 1}`), 'every request, in order');
    // Seals at least 0.5 ms apart within the elapsed time: at most this many tasks, whatever the turns took.
    const mostTasks = Math.floor(elapsedMs / (OPTIONS.maxBatchDelayUs / 1000)) + 1;
    assert.ok(runner.tasks.length <= mostTasks, `${runner.tasks.length} tasks in ${elapsedMs.toFixed(2)} ms`);
    assert.ok(runner.tasks.length < 40, 'requests of several turns share a task');
  });

  it('sends a lone request after a quiet spell at the end of its turn', async () => {
    const { runner, submit } = setUp();
    submit(1);
    await turnEnd();
    runner.finish(0);
    await pastThePace();
    submit(2);
    await turnEnd();
    assert.deepEqual(runner.tasks, [['r1'], ['r2']]);
  });

  it('seals a batch at once at max_batch_requests', () => {
    const { runner, submit } = setUp({ maxBatchRequests: 2 });
    submit(1, 2, 3);
    assert.deepEqual(runner.tasks, [['r1', 'r2']]);
  });

  it('keeps small batches within the primary slots, growing the open one meanwhile', async () => {
    const { coalescer, runner, submit } = setUp();
    await fillPrimarySlots(submit);
    submit(3, 4);
    await turnEnd();
    submit(5);
    await turnEnd();
    assert.deepEqual(runner.tasks, [['r1'], ['r2']], 'two spare slots stay unused for small, fresh batches');
    assert.equal(coalescer.queuedRequests, 3);
    await pastThePace();
    runner.finish(0);
    assert.deepEqual(runner.tasks[2], ['r3', 'r4', 'r5'], 'the grown batch goes as soon as a primary slot frees');
    assert.equal(coalescer.runningTasks, 2);
  });

  it("tells the runner how long the batch's first request waited", async () => {
    const { runner, submit } = setUp();
    await fillPrimarySlots(submit);
    const submitStart = performance.now();
    submit(3);
    const submitEnd = performance.now();
    await sleep(10);
    submit(4);
    await turnEnd();
    const startBefore = performance.now();
    runner.finish(0);
    const startAfter = performance.now();
    assert.deepEqual(runner.tasks[2], ['r3', 'r4']);
    const batched = runner.batchedMs[2]!;
    assert.ok(batched >= startBefore - submitEnd && batched <= startAfter - submitStart, `${startBefore - submitEnd} <= ${batched} <= ${startAfter - submitStart}`);
    assert.ok(batched >= 9, `r3 waited through the 10 ms sleep: ${batched} ms`);
  });

  it('spills a batch of spill_bytes to a spare slot at once', async () => {
    const { coalescer, runner, submit } = setUp();
    await fillPrimarySlots(submit);
    coalescer.submit(request(3, 600));
    assert.equal(runner.tasks.length, 2);
    coalescer.submit(request(4, 600));
    assert.deepEqual(runner.tasks[2], ['r3', 'r4'], 'over spillBytes (1 000) with both primary slots busy');
    assert.equal(coalescer.runningTasks, 3);
  });

  it('spills a smaller batch to an idle worker than to a busy one', async () => {
    const { coalescer, runner, submit } = setUp({ spillToIdleBytes: 500 });
    await fillPrimarySlots(submit);
    coalescer.submit(request(3, 600));
    assert.deepEqual(runner.tasks[2], ['r3'], 'over spillToIdleBytes (500) while nothing has spilled');
    coalescer.submit(request(4, 600));
    assert.equal(runner.tasks.length, 3, 'one task spilled already: under spillBytes (1 000), it waits');
    coalescer.submit(request(5, 600));
    assert.deepEqual(runner.tasks[3], ['r4', 'r5'], 'over spillBytes (1 000)');
    assert.equal(coalescer.runningTasks, 4);
  });

  it('counts a compressed body as the JSON it will inflate to', async () => {
    const { runner, submit, coalescer } = setUp();
    await fillPrimarySlots(submit);
    coalescer.submit(request(3, 200, FLAG_GZIP));
    assert.deepEqual(runner.tasks[2], ['r3'], '200 gzip bytes count as over spillBytes (1 000)');
  });

  it('spills a batch kept waiting spill_after_ms, without another request to trigger it', async () => {
    const { runner, submit } = setUp();
    await fillPrimarySlots(submit);
    submit(3);
    await turnEnd();
    assert.equal(runner.tasks.length, 2);
    await sleep(OPTIONS.spillAfterMs + 40);
    assert.deepEqual(runner.tasks[2], ['r3']);
  });

  it('never runs more than max_running_tasks, and starts batches in arrival order', async () => {
    const { coalescer, runner } = setUp({ maxBatchRequests: 1, spillBytes: 1, spillToIdleBytes: 1 });
    for (let id = 1; id <= 6; id++) coalescer.submit(request(id));
    assert.deepEqual(runner.tasks.flat(), ['r1', 'r2', 'r3', 'r4']);
    assert.equal(coalescer.queuedRequests, 2);
    runner.finish(2);
    runner.finish(0);
    assert.deepEqual(runner.tasks.flat(), ['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    await turnEnd();
  });

  it('with one worker’s slots in all, never waits on a spill timer', async () => {
    const { runner, submit } = setUp({ maxRunningTasks: 2 });
    await fillPrimarySlots(submit);
    submit(3);
    await sleep(OPTIONS.spillAfterMs + 40);
    assert.equal(runner.tasks.length, 2, 'no spare slot to spill to');
    runner.finish(1);
    assert.deepEqual(runner.tasks[2], ['r3']);
  });
});

describe('busiestWithRoom (piscina load balancer)', () => {
  const worker = (id: number, currentUsage: number) => ({ id, currentUsage }) as unknown as Parameters<ReturnType<typeof busiestWithRoom>>[1][number];
  const pick = busiestWithRoom(2);
  const task = {} as Parameters<typeof pick>[0];

  it('gives the task to the busiest worker that still has room, so an idle one stays asleep', () => {
    assert.equal(pick(task, [worker(1, 0), worker(2, 1)])?.id, 2);
    assert.equal(pick(task, [worker(1, 2), worker(2, 0)])?.id, 2, 'a full worker is skipped');
    assert.equal(pick(task, [worker(1, 0), worker(2, 0)])?.id, 1);
  });

  it('returns null when every worker is full', () => {
    assert.equal(pick(task, [worker(1, 2), worker(2, 2)]), null);
  });
});
