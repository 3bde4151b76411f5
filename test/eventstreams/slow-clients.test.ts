/**
 * DESIGN.md §10 backpressure: a client that stops reading slows only its own consumer, and is
 * disconnected — when more than max_buffered_bytes pile up behind its socket, or when the socket has
 * not drained within max_stall_ms — so memory per client is bounded; a reading client is unaffected.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { postEvents } from '../helpers/http';
import { metricValue } from '../helpers/metrics';
import { openSse } from '../helpers/sse';
import { kafkaFixture, markedEvent, waitFor, waitForReady } from '../kafka/support';
import { gaugeSettles } from './support';

/** Past what the loopback socket takes in while its reader does not read (a few MiB). */
const BIG_EVENTS = 40;
const BIG_EVENT = 'x'.repeat(300 * 1024);

describe('§10 EventStreams: clients that stop reading', { timeout: 120_000 }, () => {
  const kafka = kafkaFixture();

  async function stalledClient(limits: { max_buffered_bytes: number; max_stall_ms: number }): Promise<void> {
    const k = await kafka.start({ config: ({ plain }) => ({ eventstreams: { enabled: true, allowed_streams: [plain], ...limits } }) });
    await waitForReady(k.url, 200, 20_000);
    assert.equal((await postEvents(k.url, [markedEvent(k.plain, 'warm-up')])).status, 201);
    const path = `/v2/stream/${k.plain}`;
    const slow = openSse(k.url, path, { 'X-Client-IP': '192.0.2.20' });
    const healthy = openSse(k.url, path, { 'X-Client-IP': '192.0.2.21' });
    await Promise.all([slow.opened, healthy.opened]);
    slow.pause();
    for (let i = 0; i < BIG_EVENTS; i++) assert.equal((await postEvents(k.url, [markedEvent(k.plain, `big-${i}`, { test_map: { big: BIG_EVENT } })])).status, 201);
    await healthy.waitForEvents(BIG_EVENTS, 30_000);
    healthy.close();
    await waitFor('the slow client is cut off', 20_000, async () => (await metricValue(k.url, 'sluice_eventstreams_disconnects_total', { reason: 'slow_client' })) === 1);
    // A paused reader notices the close only once it reads what the kernel still holds.
    slow.resume();
    await slow.closed;
    assert.ok(slow.events.length < BIG_EVENTS, `the slow client got ${slow.events.length} of ${BIG_EVENTS} events before the cut`);
    await gaugeSettles(k, 'sluice_eventstreams_consumers', 0);
    assert.equal(await metricValue(k.url, 'sluice_eventstreams_disconnects_total', { reason: 'client_closed' }), 1, 'the reading client left on its own');
  }

  it('more than max_buffered_bytes behind a backed-up socket disconnects the client at once', async () => {
    await stalledClient({ max_buffered_bytes: 256 * 1024, max_stall_ms: 60_000 });
  });

  it('a socket that does not drain within max_stall_ms disconnects the client (buffer limit not reached)', async () => {
    await stalledClient({ max_buffered_bytes: 256 * 1024 * 1024, max_stall_ms: 1000 });
  });
});
