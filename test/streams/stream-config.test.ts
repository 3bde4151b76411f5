/**
 * DESIGN.md §3 stream config and §5 steps 2, 3 and 6: exact names beat regex keys, the schema title
 * must match the stream's schema_title, unknown streams are invalid, topic = topic_prefix + stream (or
 * the stream's topic), message key fields must be present, destination_event_service filters streams.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startSluice, makeTempDir, writeYaml, type Sluice } from '../helpers/server';
import { postEvents, request } from '../helpers/http';
import { testEvent, clickEvent, assertInvalidStatus, eventsBody, ids } from '../helpers/events';

const PREFIX = 'dc1.';

describe('§3/§5 stream config rules (topic_prefix "dc1.")', () => {
  let s: Sluice;
  before(async () => {
    const dir = makeTempDir();
    const streams = writeYaml(path.join(dir, 'streams.yaml'), {
      'test.event': { schema_title: 'test/event' },
      '/^test\\..+/': { schema_title: 'analytics/click' },
      '/^other\\..+/': { schema_title: 'test/event' },
      'override.stream': { schema_title: 'test/event', topic: 'custom-topic' },
      'keyed.stream': { schema_title: 'test/event', message_key_fields: { t: 'test', d: 'meta.domain' } },
      'foreign.stream': { schema_title: 'test/event', destination_event_service: 'some-other-service' },
      'mine.stream': { schema_title: 'test/event', destination_event_service: 'sluice' },
      'sluice.error.validation': { schema_title: 'error' },
    });
    s = await startSluice({ config: { service_name: 'sluice', streams: { config: `file:${streams}`, topic_prefix: PREFIX } } });
  });
  after(async () => {
    await s?.stop();
  });

  describe('exact names win over regular expressions', () => {
    it('test.event (exact: test/event) accepts test/event although /^test\\..+/ wants analytics/click', async () => {
      const ev = testEvent();
      const r = await postEvents(s.url, ev);
      assert.equal(r.status, 201, r.text.slice(0, 300));
      assert.ok(ids(await s.readLines(`${PREFIX}test.event`)).includes(ev.meta.id));
    });

    it('test.event refuses analytics/click with SchemaTitleMismatch', async () => {
      const ev = clickEvent({}, { stream: 'test.event' });
      const r = await postEvents(s.url, [ev]);
      assert.equal(r.status, 400);
      assertInvalidStatus(eventsBody(r).invalid[0], 'SchemaTitleMismatch', ev);
    });

    it('other names matching /^test\\..+/ take the regex config', async () => {
      const click = clickEvent({}, { stream: 'test.clicks' });
      const r = await postEvents(s.url, click);
      assert.equal(r.status, 201, r.text.slice(0, 300));
      assert.ok(ids(await s.readLines(`${PREFIX}test.clicks`)).includes(click.meta.id));
      const wrong = testEvent({}, { stream: 'test.clicks' });
      const r2 = await postEvents(s.url, [wrong]);
      assert.equal(r2.status, 400);
      assertInvalidStatus(eventsBody(r2).invalid[0], 'SchemaTitleMismatch', wrong);
    });

    it('a regex stream accepts any name it matches, each to its own topic', async () => {
      const a = testEvent({}, { stream: 'other.alpha' });
      const b = testEvent({}, { stream: 'other.beta.gamma' });
      const r = await postEvents(s.url, [a, b]);
      assert.equal(r.status, 201, r.text.slice(0, 300));
      assert.ok(ids(await s.readLines(`${PREFIX}other.alpha`)).includes(a.meta.id));
      assert.ok(ids(await s.readLines(`${PREFIX}other.beta.gamma`)).includes(b.meta.id));
    });
  });

  describe('schema title must equal the stream schema_title', () => {
    it('a mismatch is invalid SchemaTitleMismatch with a message naming the titles', async () => {
      const ev = testEvent({}, { stream: 'test.clicks' });
      const r = await postEvents(s.url, [ev]);
      const entry = eventsBody(r).invalid[0];
      assertInvalidStatus(entry, 'SchemaTitleMismatch', ev);
      assert.match(entry.context.message, /analytics\/click|test\/event/);
    });
  });

  describe('unknown streams are invalid', () => {
    it('a name matching no key or regex is invalid StreamNotConfigured', async () => {
      for (const stream of ['no.such.stream', 'xother.alpha', 'other', 'TEST.EVENT']) {
        const ev = testEvent({}, { stream });
        const r = await postEvents(s.url, [ev]);
        assert.equal(r.status, 400, stream);
        assertInvalidStatus(eventsBody(r).invalid[0], 'StreamNotConfigured', ev);
      }
    });

    it('a stream whose destination_event_service is another service is not loaded', async () => {
      const ev = testEvent({}, { stream: 'foreign.stream' });
      const r = await postEvents(s.url, [ev]);
      assert.equal(r.status, 400);
      assertInvalidStatus(eventsBody(r).invalid[0], 'StreamNotConfigured', ev);
      const cfg = await request(s.url, '/v1/stream-configs');
      assert.equal(cfg.body['foreign.stream'], undefined);
    });

    it('a stream whose destination_event_service is this service_name is loaded', async () => {
      const ev = testEvent({}, { stream: 'mine.stream' });
      const r = await postEvents(s.url, ev);
      assert.equal(r.status, 201, r.text.slice(0, 300));
    });
  });

  describe('topics', () => {
    it('topic = topic_prefix + stream: nothing is written to the unprefixed file', async () => {
      const ev = testEvent();
      assert.equal((await postEvents(s.url, ev)).status, 201);
      assert.ok(ids(await s.readLines(`${PREFIX}test.event`)).includes(ev.meta.id));
      assert.equal(fs.existsSync(path.join(s.dataDir, 'test.event.jsonl')), false);
    });

    it("a stream's topic setting overrides the stream name", async () => {
      const ev = testEvent({}, { stream: 'override.stream' });
      const r = await postEvents(s.url, ev);
      assert.equal(r.status, 201, r.text.slice(0, 300));
      const plain = ids(await s.readLines('custom-topic'));
      const prefixed = ids(await s.readLines(`${PREFIX}custom-topic`));
      assert.equal([...plain, ...prefixed].filter((id) => id === ev.meta.id).length, 1, 'stored once under the override topic');
      assert.equal((await s.readLines(`${PREFIX}override.stream`)).length, 0);
      assert.equal((await s.readLines('override.stream')).length, 0);
    });

    it('error events go to topic_prefix + error_stream', async () => {
      const r = await postEvents(s.url, [testEvent({ test_int: 'x' })], { headers: { 'x-request-id': 'prefixed-error' } });
      assert.equal(r.status, 400);
      const lines = await s.waitForLines(`${PREFIX}sluice.error.validation`, (ls) => ls.some((l) => l.meta?.request_id === 'prefixed-error'));
      assert.ok(lines.some((l) => l.meta?.request_id === 'prefixed-error'));
    });
  });

  describe('message_key_fields', () => {
    it('an event carrying every key field is accepted', async () => {
      const ev = testEvent({ test: 'k1' }, { stream: 'keyed.stream', domain: 'example.org' });
      const r = await postEvents(s.url, ev);
      assert.equal(r.status, 201, r.text.slice(0, 300));
      assert.ok(ids(await s.readLines(`${PREFIX}keyed.stream`)).includes(ev.meta.id));
    });

    it('a missing top-level or nested key field is invalid MessageKeyMissing, the others in the batch are kept', async () => {
      const ok = testEvent({ test: 'k2' }, { stream: 'keyed.stream', domain: 'example.org' });
      const noTop = testEvent({}, { stream: 'keyed.stream', domain: 'example.org' });
      delete noTop.test;
      const noNested = testEvent({ test: 'k3' }, { stream: 'keyed.stream' });
      const r = await postEvents(s.url, [ok, noTop, noNested]);
      assert.equal(r.status, 207, r.text.slice(0, 300));
      const body = eventsBody(r);
      assert.equal(body.invalid.length, 2);
      assertInvalidStatus(body.invalid[0], 'MessageKeyMissing', noTop);
      assertInvalidStatus(body.invalid[1], 'MessageKeyMissing', noNested);
      const stored = ids(await s.readLines(`${PREFIX}keyed.stream`));
      assert.ok(stored.includes(ok.meta.id));
      assert.ok(!stored.includes(noTop.meta.id) && !stored.includes(noNested.meta.id));
    });

    it('GET /v1/stream-configs/keyed.stream shows its message_key_fields', async () => {
      const r = await request(s.url, '/v1/stream-configs/keyed.stream');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body['keyed.stream'].message_key_fields, { t: 'test', d: 'meta.domain' });
    });
  });
});
