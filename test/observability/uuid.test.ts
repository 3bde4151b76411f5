// src/uuid.ts: the ids Sluice makes (X-Request-ID when the client sends none, meta.id, error events) are
// random version-4 UUIDs, distinct across many refills of its batch.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuid } from '../../src/uuid';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const COUNT = 20_000; // ~78 batches of 256

describe('uuid()', () => {
  it('makes distinct version-4 UUIDs, every random hex digit taking many values', () => {
    const seen = new Set<string>();
    const valuesAt: Array<Set<string>> = Array.from({ length: 36 }, () => new Set());
    for (let i = 0; i < COUNT; i++) {
      const id = uuid();
      assert.match(id, V4);
      seen.add(id);
      for (let c = 0; c < 36; c++) valuesAt[c]!.add(id[c]!);
    }
    assert.equal(seen.size, COUNT, 'no id repeats');
    for (let c = 0; c < 36; c++) {
      if ([8, 13, 18, 23].includes(c)) assert.deepEqual([...valuesAt[c]!], ['-']);
      else if (c === 14) assert.deepEqual([...valuesAt[c]!], ['4']);
      else if (c === 19) assert.equal(valuesAt[c]!.size, 4, 'variant digit is one of 8, 9, a, b');
      else assert.equal(valuesAt[c]!.size, 16, `hex digit ${c} takes all 16 values`);
    }
  });
});
