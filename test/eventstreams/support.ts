/** Helpers shared by the EventStreams tests. */
import * as assert from 'node:assert/strict';
import { postEvents } from '../helpers/http';
import { metricValue } from '../helpers/metrics';
import { markedEvent, waitFor, type KafkaSluice } from '../kafka/support';

/** Posts one event per marker, in order, each answered 201 before the next. */
export async function post(k: KafkaSluice, stream: string, markers: readonly string[]): Promise<void> {
  for (const marker of markers) {
    const r = await postEvents(k.url, [markedEvent(stream, marker)]);
    assert.equal(r.status, 201, r.text);
  }
}

/** Waits until the gauge reads `value` on the server's /metrics. */
export async function gaugeSettles(k: KafkaSluice, name: string, value: number): Promise<void> {
  await waitFor(`${name} = ${value}`, 20_000, async () => (await metricValue(k.url, name)) === value, 100);
}
