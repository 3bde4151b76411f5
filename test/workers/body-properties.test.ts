/**
 * Property tests of body decoding (DESIGN.md §2.1, §9): any bytes give events or a client-error
 * problem, never an exception; valid JSON is classified by its shape.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { FLAG_GZIP, REQUEST_PROBLEMS } from '../../src/batching/wire';
import { decodeBytes } from '../../workers/body';

const LIMIT = 64 * 1024;

describe('§2.1 body decoding: properties', () => {
  it('never throws on arbitrary bytes, plain or flagged gzip, and every refusal is a 4xx problem', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (bytes, gzip) => {
        const r = decodeBytes(bytes, gzip ? FLAG_GZIP : 0, LIMIT);
        if (!r.ok) assert.ok((REQUEST_PROBLEMS as readonly string[]).includes(r.problem), r.problem);
      }),
      { numRuns: 3000 },
    );
  });

  it('any JSON value is classified by its shape, plain or gzipped', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.boolean(), (value, gzip) => {
        const text = Buffer.from(JSON.stringify(value));
        const r = decodeBytes(gzip ? gzipSync(text) : text, gzip ? FLAG_GZIP : 0, LIMIT);
        if (Array.isArray(value)) {
          assert.equal(r.ok, value.length > 0);
          if (r.ok) assert.equal(r.events.length, value.length);
        } else if (value !== null && typeof value === 'object') {
          assert.equal(r.ok, Object.keys(value).length > 0);
          if (r.ok) assert.equal(r.events.length, 1);
        } else {
          assert.ok(!r.ok && r.problem === 'MalformedBody');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('mutating one byte of a valid batch never throws', () => {
    const valid = Buffer.from(JSON.stringify([{ $schema: '/test/event/1.0.0', meta: { stream: 'test.event' }, test: 'ünïcødé ✓' }]));
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const bytes = Buffer.from(valid);
        bytes[at] = byte;
        decodeBytes(bytes, 0, LIMIT);
      }),
      { numRuns: 3000 },
    );
  });
});
