import type { LibrdKafkaError, Producer } from 'node-rdkafka';
import type { MessageBatch } from './types';

/** What librdkafka took of a run: `produced` messages from the first; `error` is why it refused the next. */
export interface RunOutcome {
  readonly produced: number;
  readonly error: LibrdKafkaError | null;
}

/** What a run is sliced from: a MessageBatch's payload, spans and timestamps. */
export type SpannedMessages = Pick<MessageBatch, 'payload' | 'spans' | 'spanStride' | 'timestamps'>;

interface SpansProducer {
  produceSpans(topic: string, payload: Buffer, spans: Int32Array, stride: number, timestamps: Float64Array, first: number, count: number, firstOpaque: number): RunOutcome;
}

/**
 * Produces messages first … first+count-1 of a batch (all to `topic`) in one call to Sluice's patch to
 * node-rdkafka (scripts/patches/node-rdkafka-produce-spans.patch), message first+k with the opaque
 * firstOpaque+k. One produce() per message cost the HTTP thread a call through node-rdkafka's wrapper,
 * a Buffer for the value and a lookup of the topic each time.
 */
export function produceRun(producer: Producer, topic: string, batch: SpannedMessages, first: number, count: number, firstOpaque: number): RunOutcome {
  // node-rdkafka's typings know only its own methods; this one comes from the patch.
  return (producer as unknown as SpansProducer).produceSpans(topic, batch.payload, batch.spans, batch.spanStride, batch.timestamps, first, count, firstOpaque);
}
