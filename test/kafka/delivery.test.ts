/**
 * Issue 3, against the real local broker: what Sluice acknowledges is in Kafka exactly once, exactly as
 * produced (value, key, timestamp — DESIGN.md §5), read back with a real consumer; mixed batches put
 * their invalid events in the error topic in the §6 shape; hasty events all arrive eventually.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { postEvents } from '../helpers/http';
import { UUID_RE } from '../helpers/events';
import type { Json } from '../helpers/server';
import { countRecords, jsonValues, readAll, type KafkaRecord } from '../helpers/kafka-consumer';
import {
  kafkaFixture,
  type KafkaSluice,
  markedEvent,
  tag,
  waitForReady,
} from './support';

/** Fields Sluice may add to a test/event (§5 step 4): the rest must come back unchanged. */
function withoutAugmentation(event: Json, added: readonly string[]): Json {
  const copy = structuredClone(event);
  for (const field of added) delete copy.meta[field];
  return copy;
}

function byMarker(records: readonly KafkaRecord[]): Map<string, { record: KafkaRecord; value: Json }[]> {
  const out = new Map<string, { record: KafkaRecord; value: Json }[]>();
  const values = jsonValues(records);
  records.forEach((record, i) => {
    const list = out.get(values[i].test) ?? [];
    list.push({ record, value: values[i] });
    out.set(values[i].test, list);
  });
  return out;
}

describe('kafka sink: what is acknowledged is in Kafka, as produced', { timeout: 150_000 }, () => {
  const kafka = kafkaFixture();

  async function sluice(): Promise<KafkaSluice> {
    const k = await kafka.start();
    await waitForReady(k.url, 200, 20_000);
    return k;
  }

  it('every event answered 201 is in its topic exactly once, byte-for-byte, with its key and timestamp', async (t) => {
    const k = await sluice();
    const run = tag();
    // Distinct, recent event times with millisecond precision (recent: far-past timestamps could
    // fall under the broker's retention).
    const baseMs = Date.now() - 10 * 60_000;
    interface Sent {
      event: Json;
      stream: string;
      requestId: string;
      /** Sent with meta.id, meta.dt and meta.request_id: nothing to augment, so the value is the event. */
      complete: boolean;
      sentAt: number;
      answeredAt: number;
    }
    const sent = new Map<string, Sent>();
    const requests = Array.from({ length: 30 }, (_, r) => {
      const requestId = `req-${run}-${r}`;
      const events = Array.from({ length: 1 + (r % 7) * 3 }, (_, e) => {
        const marker = `${run}-r${r}-e${e}`;
        const stream = (r + e) % 2 === 0 ? k.plain : k.keyed;
        const complete = e % 3 === 1;
        const meta = complete ? { id: randomUUID(), dt: new Date(baseMs + r * 1000 + e).toISOString(), request_id: `own-${marker}` } : {};
        // Non-ASCII, escapes and nested values must survive the trip unchanged.
        const extra = e % 2 === 0 ? { test_int: r * 100 + e, test_map: { s: 'ü 😀 "q" \\ \n \u2028 <>&', n: `${e}` } } : { test_array: [{ prop1: 'x' }, { prop1: 'y' }] };
        const event = markedEvent(stream, marker, extra, meta);
        sent.set(marker, { event, stream, requestId, complete, sentAt: 0, answeredAt: 0 });
        return event;
      });
      return { requestId, events };
    });

    await Promise.all(
      requests.map(async ({ requestId, events }) => {
        const sentAt = Date.now();
        const r = await postEvents(k.url, events, { headers: { 'x-request-id': requestId } });
        assert.equal(r.status, 201, `request ${requestId}: ${r.status} ${r.text.slice(0, 300)}`);
        for (const e of events) Object.assign(sent.get(e.test)!, { sentAt, answeredAt: Date.now() });
      }),
    );

    const expectedPlain = [...sent.values()].filter((s) => s.stream === k.plain).length;
    const expectedKeyed = sent.size - expectedPlain;
    const plain = await readAll(kafka.bootstrap, k.plain, { expect: expectedPlain, timeoutMs: 20_000 });
    const keyed = await readAll(kafka.bootstrap, k.keyed, { expect: expectedKeyed, timeoutMs: 20_000 });
    t.diagnostic(`sent ${sent.size} events in ${requests.length} requests; read ${plain.length} from ${k.plain}, ${keyed.length} from ${k.keyed}`);
    assert.equal(plain.length, expectedPlain, `record count in ${k.plain}`);
    assert.equal(keyed.length, expectedKeyed, `record count in ${k.keyed}`);

    const seenIds = new Set<string>();
    for (const [topic, records] of [[k.plain, plain], [k.keyed, keyed]] as const) {
      const found = byMarker(records);
      for (const [marker, list] of found) {
        const s = sent.get(marker);
        assert.ok(s, `${topic}: record with marker ${marker} that was never sent`);
        assert.equal(s.stream, topic, `${marker} is in the topic of its stream`);
        assert.equal(list.length, 1, `${marker} is in ${topic} exactly once (found ${list.length})`);
        const { record, value } = list[0]!;
        const text = record.value.toString('utf8');

        // The value is compact JSON of the event as produced.
        assert.equal(text, JSON.stringify(value), `${marker}: value is compact JSON`);
        if (s.complete) {
          assert.equal(text, JSON.stringify(s.event), `${marker}: an event that needs no augmentation is produced byte-for-byte as sent`);
        } else {
          assert.match(value.meta.id, UUID_RE, `${marker}: meta.id filled with a uuid`);
          const dt = Date.parse(value.meta.dt);
          assert.ok(dt >= s.sentAt - 1000 && dt <= s.answeredAt + 1000, `${marker}: meta.dt ${value.meta.dt} is the receive time`);
          assert.equal(value.meta.request_id, s.requestId, `${marker}: meta.request_id from X-Request-ID`);
          assert.deepEqual(withoutAugmentation(value, ['id', 'dt', 'request_id']), s.event, `${marker}: every sent field unchanged`);
        }
        assert.ok(!seenIds.has(value.meta.id), `${marker}: meta.id ${value.meta.id} is unique`);
        seenIds.add(value.meta.id);

        // Key: JSON of message_key_fields ({t: test}) on the keyed stream, none on the plain one.
        if (topic === k.keyed) {
          assert.ok(record.key !== null, `${marker}: keyed stream record has a key`);
          assert.equal(record.key.toString('utf8'), JSON.stringify({ t: marker }), `${marker}: key`);
        } else {
          assert.equal(record.key, null, `${marker}: no key on a stream without message_key_fields`);
        }
        // Timestamp: meta.dt in ms.
        assert.equal(record.timestamp, Date.parse(value.meta.dt), `${marker}: Kafka timestamp = meta.dt`);
      }
      for (const [marker, s] of sent) if (s.stream === topic) assert.ok(found.has(marker), `${marker} acknowledged 201 but missing from ${topic}`);
    }
    assert.equal(seenIds.size, sent.size);
  });

  it('a 201 is sent only once the events are already in the topic (delivery report before answer)', async () => {
    const k = await sluice();
    let expected = 0;
    for (let i = 0; i < 6; i++) {
      const events = Array.from({ length: 1 + i * 4 }, (_, e) => markedEvent(k.plain, `seq-${i}-${e}`));
      const r = await postEvents(k.url, events);
      assert.equal(r.status, 201, r.text);
      expected += events.length;
      // No waiting: the broker's high watermark must already include them.
      const count = await countRecords(kafka.bootstrap, k.plain);
      assert.equal(count, expected, `after the 201 of request ${i}, the topic holds every event acknowledged so far`);
    }
  });

  it('mixed batch: 207; valid events in their topics, invalid ones in the error topic in the §6 shape', async () => {
    const k = await sluice();
    const requestId = `mixed-${tag()}`;
    const unknownStream = `${k.plain}.nosuch`;
    const batch: Json[] = [
      markedEvent(k.plain, 'valid-1'),
      markedEvent(k.plain, 'bad-type', { test_int: 'not an integer' }),
      markedEvent(k.keyed, 'valid-2'),
      markedEvent(unknownStream, 'unknown-stream'),
      { meta: { stream: k.plain }, test: 'no-schema' },
      42,
      markedEvent(k.plain, 'valid-3', { test_int: 3 }),
    ];
    const expectedInvalid = [
      { index: 1, errorType: 'ValidationError', schemaUri: '/test/event/1.0.0', stream: k.plain },
      { index: 3, errorType: 'StreamNotConfigured', schemaUri: '/test/event/1.0.0', stream: unknownStream },
      { index: 4, errorType: 'SchemaUriMissing', schemaUri: 'unknown', stream: k.plain },
      { index: 5, errorType: 'NotAnObject', schemaUri: 'unknown', stream: 'unknown' },
    ];

    const r = await postEvents(k.url, batch, { headers: { 'x-request-id': requestId } });
    assert.equal(r.status, 207, r.text);
    assert.deepEqual(r.body.error, [], 'no server-side errors');
    assert.deepEqual(
      r.body.invalid.map((e: Json) => [e.status, e.context?.error_type, e.event]),
      expectedInvalid.map((x) => ['invalid', x.errorType, batch[x.index]]),
      'invalid events echoed in input order with their error_type',
    );

    const plain = jsonValues(await readAll(kafka.bootstrap, k.plain, { expect: 2 }));
    assert.deepEqual(plain.map((v) => v.test).sort(), ['valid-1', 'valid-3'], `${k.plain} holds exactly the valid events`);
    const keyed = jsonValues(await readAll(kafka.bootstrap, k.keyed, { expect: 1 }));
    assert.deepEqual(keyed.map((v) => v.test), ['valid-2'], `${k.keyed} holds exactly the valid event`);
    assert.equal(await countRecords(kafka.bootstrap, unknownStream), 0, 'nothing produced to the unconfigured stream');

    // Error events are produced after the answer (best-effort): wait for them.
    const errorRecords = await readAll(kafka.bootstrap, k.error, { expect: expectedInvalid.length, timeoutMs: 20_000 });
    assert.equal(errorRecords.length, expectedInvalid.length, `one error event per invalid event in ${k.error}`);
    const errors = jsonValues(errorRecords);
    const ids = new Set<string>();
    for (const x of expectedInvalid) {
      const raw = JSON.stringify(batch[x.index]);
      const matches = errors.filter((e) => e.raw_event === raw);
      assert.equal(matches.length, 1, `exactly one error event carries raw_event ${raw}`);
      const e = matches[0];
      const record = errorRecords[errors.indexOf(e)]!;
      assert.equal(e.$schema, '/error/1.0.0');
      assert.equal(e.meta.stream, k.error);
      assert.match(e.meta.id, UUID_RE);
      assert.equal(e.meta.request_id, requestId, 'meta.request_id is the X-Request-ID of the refused request');
      assert.ok(!Number.isNaN(Date.parse(e.meta.dt)) && !Number.isNaN(Date.parse(e.dt)), 'meta.dt and dt are dates');
      assert.equal(e.emitter_id, k.serviceName, 'emitter_id is service_name');
      assert.equal(e.error_type, x.errorType, `error_type of ${raw}`);
      assert.equal(typeof e.message, 'string');
      assert.ok(e.message.length > 0, 'message says why');
      assert.deepEqual(JSON.parse(e.raw_event), batch[x.index], 'raw_event is the event as received');
      assert.equal(e.errored_schema_uri, x.schemaUri, `errored_schema_uri of ${raw}`);
      assert.equal(e.errored_stream_name, x.stream, `errored_stream_name of ${raw}`);
      assert.equal(record.key, null, 'error events have no key');
      assert.equal(record.timestamp, Date.parse(e.meta.dt), 'error event timestamp = its meta.dt');
      ids.add(e.meta.id);
    }
    assert.equal(ids.size, expectedInvalid.length, 'error events have distinct ids');
    const validation = errors.find((e) => e.error_type === 'ValidationError');
    assert.match(validation.message, /test_int/, 'the validation message names the failing field');
  });

  it('hasty: every valid event of N concurrent 202 requests arrives in its topic, invalid ones in the error topic', async (t) => {
    const k = await sluice();
    const run = tag();
    const requests = 40;
    const expected = new Map<string, string>(); // marker → topic
    const invalid: string[] = [];
    const statuses = await Promise.all(
      Array.from({ length: requests }, async (_, r) => {
        const events = Array.from({ length: 8 }, (_, e) => {
          const marker = `${run}-h${r}-e${e}`;
          if (e === 5) {
            invalid.push(marker);
            return markedEvent(k.plain, marker, { test_int: 'x' });
          }
          const stream = e % 2 === 0 ? k.plain : k.keyed;
          expected.set(marker, stream);
          return markedEvent(stream, marker);
        });
        const res = await postEvents(k.url, events, { query: 'hasty=true' });
        return res.status;
      }),
    );
    assert.deepEqual(new Set(statuses), new Set([202]), 'every hasty request answered 202');

    const want = (topic: string) => [...expected.values()].filter((s) => s === topic).length;
    for (const topic of [k.plain, k.keyed]) {
      const values = jsonValues(await readAll(kafka.bootstrap, topic, { expect: want(topic), timeoutMs: 30_000 }));
      const markers = values.map((v) => v.test);
      assert.equal(markers.length, want(topic), `${topic}: all ${want(topic)} valid hasty events arrived, no more`);
      assert.equal(new Set(markers).size, markers.length, `${topic}: no duplicates`);
      for (const m of markers) assert.equal(expected.get(m), topic, `${m} belongs in ${topic}`);
    }
    const errors = jsonValues(await readAll(kafka.bootstrap, k.error, { expect: invalid.length, timeoutMs: 30_000 }));
    assert.deepEqual(errors.map((e) => JSON.parse(e.raw_event).test).sort(), [...invalid].sort(), 'each invalid hasty event became one error event');
    t.diagnostic(`hasty: ${requests} requests, ${expected.size} valid events delivered, ${invalid.length} error events`);
  });
});
