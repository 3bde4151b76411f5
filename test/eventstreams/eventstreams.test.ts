/**
 * DESIGN.md §10 against the real local broker: events posted to /v1/events (kafka sink) come out of
 * GET /v2/stream/{streams} as SSE, read by the `eventsource` package and by raw readers; ids resume
 * exactly; `since` replays by time; bad requests and limits are refused; consumers do not leak.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { metricValue } from '../helpers/metrics';
import { sleep } from '../helpers/server';
import { openSse } from '../helpers/sse';
import { postEvents } from '../helpers/http';
import { kafkaFixture, markedEvent, tag, waitFor, waitForReady, type KafkaSluice } from '../kafka/support';
import { gaugeSettles, post } from './support';

interface IdEntry {
  topic: string;
  partition: number;
  offset: number;
}

const EVENT_WAIT_MS = 15_000;

function markers(events: readonly { data: string }[]): string[] {
  return events.map((e) => JSON.parse(e.data).test);
}

/** Kafka orders each partition, not the streams between them: stream → its markers in arrival order. */
function byStream(events: readonly { data: string }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of events) {
    const event = JSON.parse(e.data);
    (out[event.meta.stream] ??= []).push(event.test);
  }
  return out;
}

/** Posts each marker to its stream, one request at a time; returns what byStream() should read back. */
async function postInOrder(k: KafkaSluice, sent: ReadonlyArray<[stream: string, marker: string]>): Promise<Record<string, string[]>> {
  const expected: Record<string, string[]> = {};
  for (const [stream, marker] of sent) {
    await post(k, stream, [marker]);
    (expected[stream] ??= []).push(marker);
  }
  return expected;
}

/** Each id names every assigned partition, exactly one of which advanced, to a higher offset. */
function checkIds(events: readonly { id: string }[], topics: readonly string[]): void {
  const last = new Map<string, number>();
  for (const e of events) {
    const id: IdEntry[] = JSON.parse(e.id);
    assert.deepEqual(id.map((m) => m.topic).sort(), [...topics].sort(), `id names every assigned partition: ${e.id}`);
    const moved = id.filter((m) => last.has(`${m.topic}/${m.partition}`) && last.get(`${m.topic}/${m.partition}`) !== m.offset);
    if (last.size > 0) assert.equal(moved.length, 1, `exactly one partition advanced: ${e.id}`);
    for (const m of moved) assert.ok(m.offset > last.get(`${m.topic}/${m.partition}`)!, `offsets increase per partition: ${e.id}`);
    for (const m of id) last.set(`${m.topic}/${m.partition}`, m.offset);
  }
}

describe('§10 EventStreams: GET /v2/stream/{streams}', { timeout: 120_000 }, () => {
  const kafka = kafkaFixture();
  let started: KafkaSluice | undefined;

  /** One Sluice for the block, serving the plain and keyed streams (not the error stream); both topics exist. */
  async function sluice(): Promise<KafkaSluice> {
    if (started) return started;
    const k = await kafka.start({
      config: ({ plain, keyed }) => ({ eventstreams: { enabled: true, allowed_streams: [plain, keyed], max_clients_per_ip: 3, keepalive_ms: 300 } }),
    });
    await waitForReady(k.url, 200, 20_000);
    // Topics appear with their first event; a stream opened before that has nothing to assign.
    await post(k, k.plain, ['warm-up']);
    await post(k, k.keyed, ['warm-up']);
    started = k;
    return k;
  }

  it('an EventSource client receives posted events in order, with ids naming every partition, and only new ones by default', async () => {
    const k = await sluice();
    const run = tag();
    const es = new EventSource(`${k.url}/v2/stream/${k.plain},${k.keyed}`);
    const received: MessageEvent[] = [];
    es.addEventListener('message', (e) => received.push(e));
    try {
      await new Promise<void>((resolve, reject) => {
        es.onopen = () => resolve();
        es.onerror = (e) => reject(new Error(`EventSource error: ${JSON.stringify(e)}`));
      });
      const expected = await postInOrder(k, Array.from({ length: 20 }, (_, i) => [i % 2 === 0 ? k.plain : k.keyed, `${run}-${i}`]));
      await waitFor('20 events', EVENT_WAIT_MS, () => received.length >= 20);
      await sleep(300);
      assert.deepEqual(byStream(received), expected, 'every posted event once, in posting order per stream, no warm-up event');
      checkIds(received.map((e) => ({ id: e.lastEventId })), [k.plain, k.keyed]);
      const first = JSON.parse(received[0]!.data);
      assert.equal(first.meta.stream, k.plain);
      assert.ok(first.meta.id && first.meta.dt, 'the event as produced, augmented by Sluice');
    } finally {
      es.close();
    }
  });

  it('reconnecting with Last-Event-ID continues after the last event seen: none missed, none repeated', async () => {
    const k = await sluice();
    const run = tag();
    const path = `/v2/stream/${k.plain},${k.keyed}`;
    const first = openSse(k.url, path);
    await first.opened;
    await postInOrder(k, Array.from({ length: 10 }, (_, i) => [i % 3 === 0 ? k.keyed : k.plain, `${run}-a${i}`]));
    await first.waitForEvents(10, EVENT_WAIT_MS);
    first.close();
    // Resume from the middle: the client saw six events when it went away.
    const unseen = first.events.slice(6);
    const lastSeen = first.events[5]!;
    await postInOrder(k, Array.from({ length: 10 }, (_, i) => [i % 2 === 0 ? k.keyed : k.plain, `${run}-b${i}`]));

    const second = openSse(k.url, path, { 'Last-Event-ID': lastSeen.id });
    await second.opened;
    assert.equal(second.status, 200, second.errorBody);
    await second.waitForEvents(14, EVENT_WAIT_MS);
    await sleep(300);
    second.close();
    const expected = byStream(unseen);
    for (const [stream, list] of Object.entries(byStream(first.events.slice(0, 6)))) assert.ok(list.every((m) => !markers(second.events).includes(m)), `${stream}: nothing seen is repeated`);
    const all = markers(second.events);
    assert.equal(all.length, 14, 'the 4 unseen events of the first batch and the 10 of the second');
    assert.equal(new Set(all).size, 14, 'no duplicates');
    for (const [stream, list] of Object.entries(expected)) assert.deepEqual(byStream(second.events)[stream]!.slice(0, list.length), list, `${stream}: resumes right after the id`);
    checkIds(second.events, [k.plain, k.keyed]);
  });

  it('since= (epoch ms or ISO-8601) replays from that time', async () => {
    const k = await sluice();
    const run = tag();
    await post(k, k.plain, [`${run}-before`]);
    await sleep(50);
    const since = Date.now();
    await sleep(50);
    const after = [`${run}-x0`, `${run}-x1`, `${run}-x2`];
    await post(k, k.plain, after);
    for (const query of [`since=${since}`, `since=${encodeURIComponent(new Date(since).toISOString())}`]) {
      const reader = openSse(k.url, `/v2/stream/${k.plain}?${query}`);
      await reader.waitForEvents(3, EVENT_WAIT_MS);
      await sleep(200);
      reader.close();
      assert.deepEqual(markers(reader.events), after, query);
    }
  });

  it('?filter=meta.domain:<value> sends only matching events, and their ids still resume past the skipped ones', async () => {
    const k = await sluice();
    const run = tag();
    const reader = openSse(k.url, `/v2/stream/${k.plain}?filter=meta.domain:a.example`);
    await reader.opened;
    for (const [i, domain] of ['a.example', 'b.example', 'a.example', 'b.example'].entries()) {
      const r = await postEvents(k.url, [markedEvent(k.plain, `${run}-${i}`, {}, { domain })]);
      assert.equal(r.status, 201, r.text);
    }
    await reader.waitForEvents(2, EVENT_WAIT_MS);
    await sleep(300);
    reader.close();
    assert.deepEqual(markers(reader.events), [`${run}-0`, `${run}-2`]);
    const first: IdEntry[] = JSON.parse(reader.events[0]!.id);
    const second: IdEntry[] = JSON.parse(reader.events[1]!.id);
    assert.equal(second[0]!.offset - first[0]!.offset, 2, 'the skipped event is counted in the position');
  });

  it('keep-alive comments are sent while no events flow', async () => {
    const k = await sluice();
    const reader = openSse(k.url, `/v2/stream/${k.plain}`);
    await reader.opened;
    assert.equal(reader.headers['content-type'], 'text/event-stream; charset=utf-8');
    await waitFor('3 comments (opening + 2 keep-alives)', 5000, () => reader.comments.length >= 3);
    reader.close();
  });

  it('unknown or disallowed streams, a bad since or a bad Last-Event-ID answer 400 with a problem body', async () => {
    const k = await sluice();
    const cases: Array<[string, Record<string, string>, string]> = [
      [`/v2/stream/no.such.stream`, {}, 'UnknownStream'],
      [`/v2/stream/${k.error}`, {}, 'UnknownStream'],
      [`/v2/stream/${k.plain},no.such.stream`, {}, 'UnknownStream'],
      [`/v2/stream/${k.plain}?since=yesterday`, {}, 'BadResumePosition'],
      [`/v2/stream/${k.plain}?since=2024-13-45T99:00:00Z`, {}, 'BadResumePosition'],
      [`/v2/stream/${k.plain}`, { 'Last-Event-ID': 'not json' }, 'BadResumePosition'],
      [`/v2/stream/${k.plain}?filter=nocolon`, {}, 'BadFilter'],
      [`/v2/stream/${k.plain}`, { 'Last-Event-ID': '[{"topic":"x","partition":-3,"offset":1}]' }, 'BadResumePosition'],
    ];
    for (const [path, headers, errorType] of cases) {
      const reader = openSse(k.url, path, headers);
      await reader.closed;
      assert.equal(reader.status, 400, path);
      assert.equal(reader.headers['content-type'], 'application/problem+json');
      assert.equal(JSON.parse(reader.errorBody).type, `urn:sluice:problem:${errorType}`, path);
    }
  });

  it('a client address over max_clients_per_ip is answered 429 with Retry-After; other addresses are not', async () => {
    const k = await sluice();
    const path = `/v2/stream/${k.plain}`;
    const held = Array.from({ length: 3 }, () => openSse(k.url, path, { 'X-Client-IP': '192.0.2.7' }));
    await Promise.all(held.map((r) => r.opened));
    assert.deepEqual(held.map((r) => r.status), [200, 200, 200]);
    const refused = openSse(k.url, path, { 'X-Client-IP': '192.0.2.7' });
    await refused.closed;
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '10');
    assert.equal(JSON.parse(refused.errorBody).type, 'urn:sluice:problem:TooManyClients');
    const other = openSse(k.url, path, { 'X-Client-IP': '192.0.2.8' });
    await other.opened;
    assert.equal(other.status, 200);
    for (const r of [...held, other]) r.close();
    // The slots come back once the connections are gone.
    await gaugeSettles(k, 'sluice_eventstreams_clients', 0);
    const again = openSse(k.url, path, { 'X-Client-IP': '192.0.2.7' });
    await again.opened;
    assert.equal(again.status, 200);
    again.close();
  });

  it('metrics count connections by stream and events sent; consumers close when clients leave', async () => {
    const k = await sluice();
    await gaugeSettles(k, 'sluice_eventstreams_consumers', 0);
    assert.ok((await metricValue(k.url, 'sluice_eventstreams_connections_total', { stream: k.plain })) > 0);
    assert.ok((await metricValue(k.url, 'sluice_eventstreams_events_sent_total', { stream: k.plain })) > 0);
    assert.ok((await metricValue(k.url, 'sluice_eventstreams_bytes_sent_total')) > 0);
    assert.ok((await metricValue(k.url, 'sluice_eventstreams_disconnects_total', { reason: 'client_closed' })) > 0);
  });
});
