import type { MessageBatch, Sink, SinkUnavailable } from './types';

/** Discards every message as delivered: measures everything but the sink. Benchmarks only. */
export class NullSink implements Sink {
  readonly type = 'null' as const;

  send(batch: MessageBatch): void {
    for (let i = 0; i < batch.size; i++) batch.settle(i, null);
  }

  unavailable(): SinkUnavailable | null {
    return null;
  }

  async close(): Promise<void> {}
}
