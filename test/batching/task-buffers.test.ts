import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IntakeRequest, RequestOutcome } from '../../src/batching/request';
import { TASK_BUFFER_SIZES, TaskBuffers } from '../../src/batching/task-buffers';
import { encodeTask, MESSAGE_EVENT, Task, taskContentBytes, TaskResult, type TaskInput } from '../../src/batching/wire';
import { Metrics } from '../../src/metrics';
import { TaskDelivery } from '../../src/sinks/delivery';
import { NullSink } from '../../src/sinks/null-sink';
import type { MessageBatch, Sink, SinkUnavailable } from '../../src/sinks/types';
import { ResultBuilder } from '../../workers/result-builder';

function inputs(count: number, bodyBytes: number): TaskInput[] {
  return Array.from({ length: count }, (_, i) => ({
    body: Buffer.from(`[${'x'.repeat(bodyBytes - 2)}]`.replace(/x/g, String(i % 10))),
    flags: 0,
    receivedAt: 1_700_000_000_000 + i,
    requestId: `req-${i}`,
    clientIp: `10.0.0.${i}`,
    headers: [`agent ${i}`],
  }));
}

/** A result with one message per request: `{"n":<request>}` to topic `t`. */
function resultFor(requests: number, reuse: ArrayBuffer | null): ArrayBuffer {
  const out = new ResultBuilder(requests);
  for (let r = 0; r < requests; r++) {
    out.message(r, 0, 't', JSON.stringify({ n: r, pad: 'é'.repeat(r) }), null, 1000 + r, MESSAGE_EVENT, 's');
    out.valid(r, 's');
  }
  return out.build(undefined, reuse);
}

class Completion implements IntakeRequest {
  readonly body = Buffer.from('{}');
  readonly flags = 0;
  readonly receivedAt = 0;
  readonly requestId = 'r';
  readonly clientIp = '';
  readonly headers: string[] = [];
  outcome: RequestOutcome | null = null;
  complete(outcome: RequestOutcome): void {
    this.outcome = outcome;
  }
}

/** Never settles anything: the delivery deadline has to. */
class SilentSink implements Sink {
  readonly type = 'null' as const;
  send(_batch: MessageBatch): void {}
  unavailable(): SinkUnavailable | null {
    return null;
  }
  async close(): Promise<void> {}
}

describe('task buffers', () => {
  it('sizes a task buffer to a power of two with room for the result, and the worker reads the task intact', () => {
    const buffers = new TaskBuffers(1 << 20);
    const requests = inputs(5, 3000);
    const buffer = encodeTask(requests, 1, buffers);
    assert.equal(buffer.byteLength, TASK_BUFFER_SIZES.sizeFor(buffer.byteLength));
    assert.ok(buffer.byteLength >= 2 * 15_000, `buffer of ${buffer.byteLength} bytes for ~15,000 bytes of bodies`);
    const task = new Task(buffer);
    assert.equal(task.count, 5);
    for (let r = 0; r < 5; r++) {
      assert.deepEqual(Buffer.from(task.body(r)), requests[r]!.body);
      assert.equal(task.requestId(r), `req-${r}`);
      assert.equal(task.clientIp(r), `10.0.0.${r}`);
      assert.equal(task.header(r, 0), `agent ${r}`);
      assert.equal(task.receivedAt(r), 1_700_000_000_000 + r);
    }
  });

  it('gives results the room recent ones needed, not a fixed double', () => {
    const buffers = new TaskBuffers(1 << 20);
    const requests = inputs(10, 5000);
    const exact = taskContentBytes(encodeTask(requests, 1));
    assert.equal(exact, encodeTask(requests, 1).byteLength, 'an unpooled task buffer is exactly its contents');
    assert.ok(buffers.acquire(exact).byteLength >= 2 * exact, 'before any result: room for twice the task');
    for (let i = 0; i < 20; i++) buffers.observe(exact, 1.2 * exact);
    const size = buffers.acquire(exact).byteLength;
    assert.ok(size >= 1.2 * 1.1 * exact && size < 1.7 * exact, `${size} bytes for a ${exact}-byte task whose results are 1.2× it`);
    const buffer = encodeTask(requests, 1, buffers);
    assert.equal(taskContentBytes(buffer), exact);
  });

  it('writes a result into the task buffer when it fits, and into a new pooled-size buffer when not', () => {
    const roomy = new ArrayBuffer(64 * 1024);
    const inPlace = resultFor(3, roomy);
    assert.equal(inPlace, roomy);
    const tooSmall = new ArrayBuffer(64);
    const fresh = resultFor(3, tooSmall);
    assert.notEqual(fresh, tooSmall);
    assert.equal(fresh.byteLength, TASK_BUFFER_SIZES.sizeFor(fresh.byteLength));
    for (const buffer of [inPlace, fresh]) {
      const result = new TaskResult(buffer);
      assert.equal(result.timestamps.length, 3);
      assert.deepEqual([...result.timestamps], [1000, 1001, 1002]);
      assert.equal(result.side.names[0], 't');
    }
  });

  it('a result written over a task buffer that held other bytes reads back exactly', () => {
    const buffers = new TaskBuffers(1 << 20);
    const buffer = encodeTask(inputs(20, 2000), 1, buffers);
    const result = new TaskResult(resultFor(20, buffer));
    assert.equal(result.buffer, buffer);
    const delivery = new TaskDelivery(Array.from({ length: 20 }, () => new Completion()), result, new Metrics(), 5000);
    for (let i = 0; i < 20; i++) assert.deepEqual(JSON.parse(delivery.value(i).toString()), { n: i, pad: 'é'.repeat(i) });
  });

  it('takes a result buffer back once every message is settled, but not after the deadline expired it', async () => {
    const buffers = new TaskBuffers(1 << 20);
    const settled = new TaskResult(resultFor(2, buffers.acquire(1000)));
    const requests = [new Completion(), new Completion()];
    new TaskDelivery(requests, settled, new Metrics(), 5000, buffers).start(new NullSink());
    assert.equal(requests[0]!.outcome?.success, 1);
    assert.equal(buffers.freeCount, 1);
    assert.equal(buffers.acquire(1000), settled.buffer);

    const late = new TaskResult(resultFor(2, buffers.acquire(1000)));
    const waiting = [new Completion(), new Completion()];
    new TaskDelivery(waiting, late, new Metrics(), 20, buffers).start(new SilentSink());
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(waiting[0]!.outcome?.error, 1, 'the deadline answered the request');
    assert.equal(buffers.freeCount, 0, 'a sink may still hold slices of an expired payload');
  });
});
