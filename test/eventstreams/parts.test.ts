/**
 * DESIGN.md §10, the pure parts: event ids round-trip and bad ones are refused with a reason; `since`
 * accepts epoch ms and ISO-8601 only; each partition starts after its Last-Event-ID entry, else at
 * `since`, else at the end; streams map to one topic per prefix; connection limits count per address;
 * filters compare one field as text.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeEventId, encodeEventId, type PartitionMark } from '../../src/eventstreams/event-id';
import { parseResume, parseSince } from '../../src/eventstreams/resume';
import { planStart } from '../../src/eventstreams/start-plan';
import { StreamTopics } from '../../src/eventstreams/stream-topics';
import { ClientLimits } from '../../src/eventstreams/client-limits';
import { EventFilter } from '../../src/eventstreams/event-filter';
import { sseMessage } from '../../src/eventstreams/sse';
import { StreamTable } from '../../src/streams/stream-config';

describe('§10 event ids', () => {
  it('an encoded id decodes to the same marks, offsets and timestamps alike', () => {
    const marks: PartitionMark[] = [
      { topic: 'eqiad.page-create', partition: 0, offset: 41 },
      { topic: 'eqiad.page-create', partition: 1, offset: -1 },
      { topic: 'codfw.page-create', partition: 0, timestamp: 1700000000000 },
    ];
    assert.deepEqual(decodeEventId(encodeEventId(marks)), { ok: true, value: marks });
  });

  it('ids that are not an array of {topic, partition, offset|timestamp} are refused', () => {
    for (const bad of ['', 'x', '{}', '[1]', '[{"topic":"t","partition":0}]', '[{"topic":"t","partition":0,"offset":-2}]', '[{"topic":"","partition":0,"offset":1}]', '[{"topic":"t","partition":0.5,"offset":1}]', '[{"topic":"t","partition":0,"offset":1,"timestamp":5}]', `[${'{"topic":"t","partition":0,"offset":1},'.repeat(2000)}{}]`]) {
      assert.equal(decodeEventId(bad).ok, false, bad.slice(0, 80));
    }
  });
});

describe('§10 since=', () => {
  it('reads epoch milliseconds and ISO-8601 dates and date-times', () => {
    assert.equal(parseSince('1700000000000'), 1700000000000);
    assert.equal(parseSince('2024-05-01T12:00:00Z'), Date.UTC(2024, 4, 1, 12));
    assert.equal(parseSince('2024-05-01T12:00:00.250+02:00'), Date.UTC(2024, 4, 1, 10, 0, 0, 250));
    assert.equal(parseSince('2024-05-01'), Date.UTC(2024, 4, 1));
  });

  it('refuses anything else', () => {
    for (const bad of ['yesterday', 'now', '-5', '1e12', '2024-13-01', '2024-05-01T25:00:00Z', 'Wed, 01 May 2024 12:00:00 GMT', '2024-05-01T12:00:00Z junk']) {
      assert.equal(parseSince(bad), null, bad);
    }
    assert.equal(parseResume('', 'yesterday').ok, false);
  });
});

describe('§10 where each partition starts', () => {
  const partitions = [
    { topic: 'a', partition: 0 },
    { topic: 'a', partition: 1 },
    { topic: 'b', partition: 0 },
  ];

  it('without Last-Event-ID or since: every partition at the end', () => {
    assert.deepEqual(planStart(partitions, { after: [], since: null }), partitions.map((p) => ({ ...p, end: true })));
  });

  it('named partitions start after their offset or at their timestamp; the others at since', () => {
    const plan = planStart(partitions, {
      after: [
        { topic: 'a', partition: 0, offset: 9 },
        { topic: 'b', partition: 0, timestamp: 5000 },
        { topic: 'elsewhere', partition: 0, offset: 3 },
      ],
      since: 1000,
    });
    assert.deepEqual(plan, [
      { topic: 'a', partition: 0, offset: 10 },
      { topic: 'a', partition: 1, timestamp: 1000 },
      { topic: 'b', partition: 0, timestamp: 5000 },
    ]);
  });
});

describe('§10 streams to topics', () => {
  const table = new StreamTable({ 'page.create': { schema_title: 'test/event' }, 'custom.stream': { schema_title: 'test/event', topic: 'own-topic' }, 'not.allowed': { schema_title: 'test/event' } }, '', 'sluice');
  const topics = new StreamTopics(['page.create', 'custom.stream', 'missing.from.config'], ['eqiad.', 'codfw.'], table);

  it('one topic per prefix, or the stream\'s own topic; each mapped back to its stream', () => {
    const r = topics.select('page.create,custom.stream,page.create');
    assert.ok(r.ok);
    assert.deepEqual(r.value.streams, ['page.create', 'custom.stream']);
    assert.deepEqual([...r.value.topics], [
      ['eqiad.page.create', 'page.create'],
      ['codfw.page.create', 'page.create'],
      ['own-topic', 'custom.stream'],
    ]);
  });

  it('streams not allowed, or allowed but not in the stream config, are refused', () => {
    for (const bad of ['not.allowed', 'missing.from.config', 'page.create,nope', '', ',']) assert.equal(topics.select(bad).ok, false, bad);
  });
});

describe('§10 connection limits', () => {
  it('refuses past the per-address and total limits, and a slot released once is given back once', () => {
    const limits = new ClientLimits(3, 2);
    const a1 = limits.acquire('a');
    const a2 = limits.acquire('a');
    assert.equal(limits.acquire('a'), 'max_clients_per_ip');
    const b1 = limits.acquire('b');
    assert.equal(limits.acquire('c'), 'max_clients');
    assert.ok(typeof a1 !== 'string' && typeof a2 !== 'string' && typeof b1 !== 'string');
    a1.release();
    a1.release();
    assert.notEqual(typeof limits.acquire('a'), 'string');
    assert.equal(limits.acquire('c'), 'max_clients');
  });
});

describe('§10 SSE framing', () => {
  it('a message is event, id and data lines; line breaks in data become more data lines', () => {
    assert.equal(sseMessage('[1]', '{"a":1}'), 'event: message\nid: [1]\ndata: {"a":1}\n\n');
    assert.equal(sseMessage('[1]', 'x\ny\r\nz'), 'event: message\nid: [1]\ndata: x\ndata: y\ndata: z\n\n');
  });
});

describe('§10 ?filter=', () => {
  function filter(text: string): EventFilter {
    const parsed = EventFilter.parse(text);
    assert.ok(parsed.ok && parsed.value !== null, text);
    return parsed.value;
  }

  it('matches the field at the dotted path, compared as text', () => {
    const event = JSON.stringify({ meta: { domain: 'en.wikipedia.org' }, page_namespace: 0, bot: false, tags: ['a'] });
    assert.equal(filter('meta.domain:en.wikipedia.org').matches(event), true);
    assert.equal(filter('meta.domain:de.wikipedia.org').matches(event), false);
    assert.equal(filter('page_namespace:0').matches(event), true);
    assert.equal(filter('bot:false').matches(event), true);
    assert.equal(filter('meta.missing:x').matches(event), false);
    assert.equal(filter('tags:a').matches(event), false, 'only scalar fields match');
    assert.equal(filter('meta.domain.length:16').matches(event), false, 'no properties of strings');
    assert.equal(filter('x:a:b').matches(JSON.stringify({ x: 'a:b' })), true, 'the value may hold colons');
  });

  it('no filter is null; a filter without a path is refused', () => {
    assert.deepEqual(EventFilter.parse(''), { ok: true, value: null });
    for (const bad of ['nocolon', ':value', 'a..b:x', '.a:x']) assert.equal(EventFilter.parse(bad).ok, false, bad);
  });
});
