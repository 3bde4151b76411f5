/**
 * Random and mutated request bodies against a real server (DESIGN.md §9): every request gets an
 * answer, and a client's bad input is never a 5xx.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { useSluice } from '../helpers/server';
import { postEvents } from '../helpers/http';

const CLIENT_OUTCOMES = new Set([201, 207, 400, 413]);

/** Events that are nearly right: real schema and stream names with arbitrary values mixed in. */
const nearlyValidEvent = fc.record(
  {
    $schema: fc.oneof(fc.constant('/test/event/1.0.0'), fc.constant('/analytics/click/1.0.0'), fc.constant('/error/1.0.0'), fc.string()),
    meta: fc.oneof(fc.record({ stream: fc.constantFrom('test.event', 'analytics.click', 'sluice.error.validation', 'nope') }, { requiredKeys: [] }), fc.jsonValue()),
    test: fc.jsonValue({ maxDepth: 2 }),
    test_int: fc.oneof(fc.integer(), fc.double(), fc.string()),
    __proto__: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

describe('§9 fuzzed bodies', () => {
  const s = useSluice({ config: { limits: { max_body_bytes: 65536 } } });

  it('batches of nearly valid events always get 201, 207 or 400, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(nearlyValidEvent, { minLength: 1, maxLength: 20 }), async (events) => {
        const r = await postEvents(s.url, events);
        assert.ok(CLIENT_OUTCOMES.has(r.status), `${r.status} ${r.text.slice(0, 300)}`);
      }),
      { numRuns: 200 },
    );
  });

  it('arbitrary text bodies (JSON or not) always get a client answer, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 500 }), fc.jsonValue().map((v) => JSON.stringify(v) ?? '')), async (body) => {
        const r = await postEvents(s.url, body);
        assert.ok(CLIENT_OUTCOMES.has(r.status), `${r.status} for ${JSON.stringify(body).slice(0, 200)}: ${r.text.slice(0, 300)}`);
      }),
      { numRuns: 300 },
    );
  });
});
