/**
 * DESIGN.md §9 with the default limits (4 MiB bodies, 1 MB events): values at the edges of JSON. What a
 * worker validated is exactly what it stores — duplicate keys, numbers beyond double precision and NUL
 * characters cannot make the stored event differ from the validated one — and large strings, long arrays
 * and a byte order mark are handled without a crash.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { useSluice } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { assertInvalidStatus, eventsBody, testEvent } from '../helpers/events';

const EVENT_PREFIX = (id: string): string => `{"$schema":"/test/event/1.0.0","meta":{"stream":"test.event","id":"${id}"}`;

describe('§9 edge values with the default limits', () => {
  const s = useSluice();

  /** The stored line of the event with this meta.id, as text, so the test sees exactly what a consumer would. */
  async function storedLine(id: string): Promise<string> {
    const lines = (await fs.promises.readFile(path.join(s.dataDir, 'test.event.jsonl'), 'utf8')).split('\n');
    const line = lines.find((l) => l.includes(`"id":"${id}"`));
    assert.ok(line, `event ${id} is stored`);
    return line;
  }

  describe('duplicate keys: the last one wins, in validation and in what is stored', () => {
    it('an invalid value followed by a valid one is validated and stored as the valid one, once', async () => {
      const id = 'a1d2c3e4-0000-4000-8000-000000000001';
      const r = await postEvents(s.url, `${EVENT_PREFIX(id)},"test_int":"not a number","test_int":5}`);
      assert.equal(r.status, 201, r.text);
      const line = await storedLine(id);
      assert.equal(line.match(/"test_int"/g)?.length, 1, line);
      assert.equal(JSON.parse(line).test_int, 5);
    });

    it('a valid value followed by an invalid one is refused: the first cannot smuggle the second past validation', async () => {
      const id = 'a1d2c3e4-0000-4000-8000-000000000002';
      const r = await postEvents(s.url, `${EVENT_PREFIX(id)},"test_int":5,"test_int":"not a number"}`);
      assert.equal(r.status, 400, r.text);
      assertInvalidStatus(eventsBody(r).invalid[0], 'ValidationError');
    });
  });

  describe('numbers beyond double precision', () => {
    it('an integer beyond 2^53 is stored as the double that was validated', async () => {
      const id = 'a1d2c3e4-0000-4000-8000-000000000003';
      const r = await postEvents(s.url, `${EVENT_PREFIX(id)},"test_int":9007199254740993}`);
      assert.equal(r.status, 201, r.text);
      assert.match(await storedLine(id), /"test_int":9007199254740992[,}]/);
    });

    it('1e400 (Infinity to JavaScript) where the schema asks for a number is invalid, not stored as null', async () => {
      const id = 'a1d2c3e4-0000-4000-8000-000000000004';
      const r = await postEvents(s.url, `[${EVENT_PREFIX(id)},"test_int":1e400},${JSON.stringify(testEvent({ test: '1e400 in a string is fine' }))}]`);
      assert.equal(r.status, 207, r.text);
      const invalid = eventsBody(r).invalid[0];
      assertInvalidStatus(invalid, 'ValidationError');
      assert.equal(invalid.context.errors[0].instancePath, '/test_int');
      const stored = await fs.promises.readFile(path.join(s.dataDir, 'test.event.jsonl'), 'utf8');
      assert.ok(!stored.includes(id), 'nothing of it stored');
      assert.ok(stored.includes('1e400 in a string is fine'), 'its neighbour is stored');
    });
  });

  describe('NUL and the byte order mark', () => {
    it('a raw NUL byte in the body is malformed JSON: 400', async () => {
      const r = await postEvents(s.url, Buffer.concat([Buffer.from(`${EVENT_PREFIX('x')},"test":"a`), Buffer.from([0]), Buffer.from('b"}')]));
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.type, 'urn:sluice:problem:MalformedBody');
    });

    it('an escaped NUL (\\u0000) in a string is data: stored escaped, the line intact', async () => {
      const id = 'a1d2c3e4-0000-4000-8000-000000000005';
      const r = await postEvents(s.url, `${EVENT_PREFIX(id)},"test":"a\\u0000b"}`);
      assert.equal(r.status, 201, r.text);
      const line = await storedLine(id);
      assert.ok(line.includes('"test":"a\\u0000b"'), line);
      assert.ok(!line.includes('\0'), 'no raw NUL written');
      assert.equal(JSON.parse(line).test, 'a\u0000b');
    });

    it('a UTF-8 byte order mark before the JSON is accepted and not stored', async () => {
      const event = testEvent();
      const r = await postEvents(s.url, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(event))]));
      assert.equal(r.status, 201, r.text);
      const line = await storedLine(String((event.meta as { id: string }).id));
      assert.ok(line.startsWith('{'), 'the stored event starts with its JSON');
    });
  });

  describe('large values within the body limit', () => {
    it('a 900 KB string field is stored intact; a 1 MB one makes the event EventTooLarge', async () => {
      const fits = testEvent({ test: 'x'.repeat(900_000) });
      const r = await postEvents(s.url, fits);
      assert.equal(r.status, 201, r.text.slice(0, 300));
      assert.equal(JSON.parse(await storedLine(String((fits.meta as { id: string }).id))).test.length, 900_000);
      const tooBig = testEvent({ test: 'x'.repeat(1_000_000) });
      const refused = await postEvents(s.url, tooBig);
      assert.equal(refused.status, 400, refused.text.slice(0, 300));
      assertInvalidStatus(eventsBody(refused).invalid[0], 'EventTooLarge');
    });

    it('an event with a 100 000-element array is validated element by element and stored', async () => {
      // Empty items keep the event (~300 KB) under max_event_bytes; each is still checked against items.
      const event = testEvent({ test_array: Array.from({ length: 100_000 }, () => ({})) });
      const r = await postEvents(s.url, event);
      assert.equal(r.status, 201, r.text.slice(0, 300));
      assert.equal(JSON.parse(await storedLine(String((event.meta as { id: string }).id))).test_array.length, 100_000);
      const bad = testEvent({ test_array: [...Array.from({ length: 99_999 }, () => ({})), { prop1: 7 }] });
      const refused = await postEvents(s.url, bad);
      assert.equal(refused.status, 400, refused.text.slice(0, 300));
      assert.match(JSON.stringify(eventsBody(refused).invalid[0]), /test_array\/99999\/prop1/);
    });

    it('a body of 100 000 array elements that are not events answers 400 listing every one, and the server carries on', async () => {
      const r = await postEvents(s.url, `[${Array.from({ length: 100_000 }, () => '0').join(',')}]`, { timeoutMs: 60_000 });
      assert.equal(r.status, 400, r.text.slice(0, 300));
      const invalid = eventsBody(r).invalid;
      assert.equal(invalid.length, 100_000);
      assertInvalidStatus(invalid[99_999], 'NotAnObject', 0);
      assert.equal((await postEvents(s.url, testEvent())).status, 201);
    });
  });
});
