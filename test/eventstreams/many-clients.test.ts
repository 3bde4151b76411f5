/**
 * DESIGN.md §10 at scale: 200 concurrent clients, each with its own real Kafka consumer, all receive
 * every event; the server's memory stays bounded; once they leave, every consumer is closed.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { postEvents } from '../helpers/http';
import { metricValue } from '../helpers/metrics';
import { openSse, type SseReader } from '../helpers/sse';
import { kafkaFixture, markedEvent, tag, waitFor, waitForReady } from '../kafka/support';

const CLIENTS = 200;
/** Real `eventsource` clients among them; the rest are raw readers, cheaper for the test process. */
const EVENTSOURCE_CLIENTS = 5;
const EVENTS = 10;
/**
 * Bounds the whole server process: 200 light consumers measured ~230 MiB RSS; librdkafka's default
 * prefetch (64 MiB per consumer) could reach gigabytes.
 */
const MAX_RSS_BYTES = 768 * 1024 * 1024;

describe('§10 EventStreams: 200 concurrent clients', { timeout: 180_000 }, () => {
  const kafka = kafkaFixture();

  it('every client receives every event, memory stays bounded, and all consumers close after they leave', async (t) => {
    const k = await kafka.start({ config: ({ plain }) => ({ eventstreams: { enabled: true, allowed_streams: [plain], max_clients: CLIENTS, max_clients_per_ip: 1 } }) });
    await waitForReady(k.url, 200, 20_000);
    assert.equal((await postEvents(k.url, [markedEvent(k.plain, 'warm-up')])).status, 201);
    const path = `/v2/stream/${k.plain}`;
    // One address each (X-Client-IP from the trusted loopback proxy), so the per-IP limit of 1 is not hit.
    const readers: SseReader[] = [];
    const sources: EventSource[] = [];
    const sourceEvents: string[][] = [];
    const opened: Promise<void>[] = [];
    const t0 = Date.now();
    for (let i = 0; i < CLIENTS; i++) {
      const ip = `10.8.${i >> 8}.${i & 255}`;
      if (i < EVENTSOURCE_CLIENTS) {
        const received: string[] = [];
        sourceEvents.push(received);
        const es = new EventSource(`${k.url}${path}`, { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, 'X-Client-IP': ip } }) });
        es.addEventListener('message', (e) => received.push(JSON.parse(e.data).test));
        opened.push(new Promise((resolve, reject) => {
          es.onopen = () => resolve();
          es.onerror = () => reject(new Error(`EventSource ${i} failed`));
        }));
        sources.push(es);
      } else {
        const reader = openSse(k.url, path, { 'X-Client-IP': ip });
        readers.push(reader);
        opened.push(reader.opened);
      }
    }
    try {
      await Promise.all(opened);
      const openMs = Date.now() - t0;
      assert.deepEqual(readers.filter((r) => r.status !== 200).map((r) => r.status), [], 'every raw client admitted');
      assert.equal(await metricValue(k.url, 'sluice_eventstreams_consumers'), CLIENTS);
      assert.equal(await metricValue(k.url, 'sluice_eventstreams_clients'), CLIENTS);

      const run = tag();
      const sent = Array.from({ length: EVENTS }, (_, i) => `${run}-${i}`);
      for (const marker of sent) assert.equal((await postEvents(k.url, [markedEvent(k.plain, marker)])).status, 201);
      await Promise.all(readers.map((r) => r.waitForEvents(EVENTS, 60_000)));
      await waitFor('every EventSource client has every event', 60_000, () => sourceEvents.every((list) => list.length >= EVENTS));
      for (const r of readers) assert.deepEqual(r.events.map((e) => JSON.parse(e.data).test), sent);
      for (const list of sourceEvents) assert.deepEqual(list, sent);

      const rss = await metricValue(k.url, 'sluice_process_resident_memory_bytes');
      t.diagnostic(`${CLIENTS} clients opened in ${openMs} ms; server RSS ${(rss / 2 ** 20).toFixed(0)} MiB`);
      assert.ok(rss > 0 && rss < MAX_RSS_BYTES, `server RSS ${rss} bytes`);
    } finally {
      for (const r of readers) r.close();
      for (const es of sources) es.close();
    }
    const t1 = Date.now();
    await waitFor('every consumer closed', 90_000, async () => (await metricValue(k.url, 'sluice_eventstreams_consumers')) === 0, 200);
    t.diagnostic(`consumers closed ${Date.now() - t1} ms after the clients left`);
    assert.equal(await metricValue(k.url, 'sluice_eventstreams_clients'), 0);
    assert.equal(await metricValue(k.url, 'sluice_eventstreams_disconnects_total', { reason: 'client_closed' }), CLIENTS);
  });
});
