/**
 * DESIGN.md §10 backpressure: a client that stops reading is buffered up to max_buffered_bytes, then
 * its consumer is no longer read, and it is disconnected once its socket has not drained within
 * max_stall_ms; memory per client stays bounded and a reading client alongside is unaffected.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { postEvents } from '../helpers/http';
import { metricValue } from '../helpers/metrics';
import { sleep } from '../helpers/server';
import { openSse } from '../helpers/sse';
import { kafkaFixture, markedEvent, waitFor, waitForReady } from '../kafka/support';
import { gaugeSettles } from './support';

/** Past what the loopback socket takes in while its reader does not read (a few MiB). */
const BIG_EVENTS = 40;
const BIG_EVENT = 'x'.repeat(300 * 1024);

describe('§10 EventStreams: clients that stop reading', { timeout: 120_000 }, () => {
  const kafka = kafkaFixture();

  /**
   * One client stops reading, one keeps reading, through a burst of large events; returns how many
   * events the stalled one was sent. The burst is in the topic before the clients replay it with
   * `since`, so the server has it all at once: the stall timer races nothing but the server itself,
   * not the time a loaded machine takes to post the burst.
   */
  async function stalledClient(limits: { max_buffered_bytes: number; max_stall_ms: number }): Promise<number> {
    const k = await kafka.start({ config: ({ plain }) => ({ eventstreams: { enabled: true, allowed_streams: [plain], ...limits } }) });
    await waitForReady(k.url, 200, 20_000);
    assert.equal((await postEvents(k.url, [markedEvent(k.plain, 'warm-up')])).status, 201);
    // Kafka stamps the warm-up when it is produced, before its 201: a later millisecond leaves it out.
    await sleep(5);
    const since = Date.now();
    for (let i = 0; i < BIG_EVENTS; i++) assert.equal((await postEvents(k.url, [markedEvent(k.plain, `big-${i}`, { test_map: { big: BIG_EVENT } })])).status, 201);
    const path = `/v2/stream/${k.plain}?since=${since}`;
    const slow = openSse(k.url, path, { 'X-Client-IP': '192.0.2.20' });
    slow.pause();
    const healthy = openSse(k.url, path, { 'X-Client-IP': '192.0.2.21' });
    await Promise.all([slow.opened, healthy.opened]);
    await healthy.waitForEvents(BIG_EVENTS, 30_000);
    assert.equal(healthy.events.length, BIG_EVENTS, 'the replay holds the burst and nothing before it');
    healthy.close();
    await waitFor('the slow client is cut off', 20_000, async () => (await metricValue(k.url, 'sluice_eventstreams_disconnects_total', { reason: 'slow_client' })) === 1);
    // A paused reader notices the close only once it reads what the kernel still holds.
    slow.resume();
    await slow.closed;
    await gaugeSettles(k, 'sluice_eventstreams_consumers', 0);
    assert.equal(await metricValue(k.url, 'sluice_eventstreams_disconnects_total', { reason: 'client_closed' }), 1, 'the reading client left on its own');
    return (await metricValue(k.url, 'sluice_eventstreams_events_sent_total', { stream: k.plain })) - BIG_EVENTS;
  }

  it('past max_buffered_bytes the stalled client is sent nothing more, and it is cut after max_stall_ms', async (t) => {
    const sentToStalled = await stalledClient({ max_buffered_bytes: 256 * 1024, max_stall_ms: 1500 });
    t.diagnostic(`stalled client sent ${sentToStalled} of ${BIG_EVENTS} events`);
    // What the loopback socket took in, plus at most the limit and one event; far from the whole burst.
    assert.ok(sentToStalled < BIG_EVENTS / 2, `the stalled client was sent ${sentToStalled} of ${BIG_EVENTS} events`);
  });

  it('a buffer limit above the burst holds it all for the stalled client until max_stall_ms cuts it', async () => {
    // The server has the whole replay at once and buffers it in far less than the stall bound.
    const sentToStalled = await stalledClient({ max_buffered_bytes: 64 * 1024 * 1024, max_stall_ms: 5000 });
    assert.equal(sentToStalled, BIG_EVENTS);
  });
});
