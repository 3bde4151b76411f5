import type { LibrdKafkaError, Producer } from 'node-rdkafka';

/**
 * Delivery reports in batches, from Sluice's patch to node-rdkafka
 * (scripts/patches/node-rdkafka-batched-delivery-reports.patch): one call per flush of up to 100
 * reports. Unpatched, each report was a JS object of its own and a call of its own, which cost the
 * producing thread about as much again as produce() itself. `opaques[i]` is the i-th report's opaque;
 * `errors` is null when every report succeeded, else it holds the error at each failed report's index.
 */
export type DeliveryReportsListener = (errors: ReadonlyArray<LibrdKafkaError | undefined> | null, opaques: readonly unknown[]) => void;

/**
 * The producer option that turns batched reports on (and per-report ones off). It also opens the
 * patch's lean produce() path, taken when the opaque is a uint32 and there are no headers. Sluice
 * itself produces in runs (kafka-produce-spans.ts), whose opaques travel the same way.
 */
export const BATCHED_DELIVERY_REPORTS = { dr_batch_cb: true } as const;

export function onDeliveryReports(producer: Producer, listener: DeliveryReportsListener): void {
  // node-rdkafka's typings know only its own events; this one comes from the patch.
  (producer as unknown as NodeJS.EventEmitter).on('delivery-reports', listener);
}
