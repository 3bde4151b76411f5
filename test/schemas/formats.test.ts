/**
 * src/schemas/formats.ts replaces ajv-formats' full `date-time` and `uuid` for speed; it must agree
 * with them exactly. Both are run on hand-picked edge cases and on thousands of mutated strings.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { fullFormats } from 'ajv-formats/dist/formats';
import { compareDateTime, dateTimeMillis, isDateTime, isUuid } from '../../src/schemas/formats';

const referenceDateTime = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate;
const referenceUuid = fullFormats.uuid as RegExp;

const DATE_TIMES = [
  '2026-11-22T20:32:24.798Z',
  '2026-11-22t20:32:24z',
  '2026-11-22 20:32:24+05:30',
  '2026-11-22T20:32:24+0530',
  '2026-11-22T20:32:24-05',
  '2024-02-29T00:00:00Z',
  '2023-02-29T00:00:00Z',
  '1900-02-29T00:00:00Z',
  '2000-02-29T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-11-22T24:00:00Z',
  '2026-11-22T23:60:00Z',
  '2016-12-31T23:59:60Z',
  '2016-12-31T23:59:60.5Z',
  '2016-12-31T18:59:60-05:00',
  '2016-12-31T22:59:60Z',
  '2026-11-22T20:32:24',
  '2026-11-22T20:32:24.Z',
  '2026-11-22T20:32:24.123456789Z',
  '2026-11-22T20:32:24+24:00',
  '2026-11-22T20:32:24+05:60',
  '2026-11-22T20:32:24+05:3',
  '2026-11-22TT20:32:24Z',
  '2026-11-22\t20:32:24Z',
  '2026-11-22\u00a020:32:24Z',
  '２026-11-22T20:32:24Z',
  '',
  'not a date',
];

const UUIDS = [
  'd862d881-79b8-485f-8fe3-693953df9863',
  'D862D881-79B8-485F-8FE3-693953DF9863',
  'urn:uuid:d862d881-79b8-485f-8fe3-693953df9863',
  'URN:UUID:d862d881-79b8-485f-8fe3-693953df9863',
  'd862d88179b8-485f-8fe3-693953df9863-',
  'g862d881-79b8-485f-8fe3-693953df9863',
  'd862d881-79b8-485f-8fe3-693953df986',
  'd862d881-79b8-485f-8fe3-693953df98633',
  '',
];

const ALPHABET = '0123456789-:.TtZz+ \t\u00a0xé';

/** Deterministic mutations: replace, insert or delete one character, many times over. */
function* mutations(seeds: readonly string[], count: number): Generator<string> {
  let state = 42;
  const random = (n: number): number => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
  for (let k = 0; k < count; k++) {
    let s = seeds[random(seeds.length)]!;
    for (let edits = 1 + random(2); edits > 0; edits--) {
      const at = random(s.length + 1);
      const ch = ALPHABET[random(ALPHABET.length)]!;
      const op = random(3);
      s = op === 0 ? s.slice(0, at) + ch + s.slice(at + 1) : op === 1 ? s.slice(0, at) + ch + s.slice(at) : s.slice(0, at) + s.slice(at + 1);
    }
    yield s;
  }
}

describe('date-time format', () => {
  it('agrees with ajv-formats full mode on edge cases', () => {
    for (const s of DATE_TIMES) assert.equal(isDateTime(s), referenceDateTime(s), JSON.stringify(s));
  });

  it('agrees with ajv-formats full mode on 20 000 mutated strings', () => {
    let valid = 0;
    for (const s of mutations(DATE_TIMES.slice(0, 8), 20_000)) {
      assert.equal(isDateTime(s), referenceDateTime(s), JSON.stringify(s));
      if (referenceDateTime(s)) valid++;
    }
    assert.ok(valid > 1000, `the mutations must exercise valid strings too (${valid})`);
  });

  it('gives the same instant as Date.parse, time zone included', () => {
    for (const s of ['2026-11-22T20:32:24.798Z', '2026-11-22T20:32:24+05:30', '1999-12-31T23:59:59.999-08:00', '2026-11-22T20:32:24.1234Z']) {
      assert.equal(dateTimeMillis(s), Date.parse(s), s);
    }
  });

  it('compares instants, not strings', () => {
    assert.equal(compareDateTime('2026-11-22T20:00:00+01:00', '2026-11-22T19:00:00Z'), 0);
    assert.equal(compareDateTime('2026-11-22T20:00:01Z', '2026-11-22T20:00:00Z'), 1);
    assert.equal(compareDateTime('nope', '2026-11-22T20:00:00Z'), undefined);
  });
});

describe('uuid format', () => {
  it('agrees with ajv-formats on edge cases and 20 000 mutated strings', () => {
    for (const s of UUIDS) assert.equal(isUuid(s), referenceUuid.test(s), JSON.stringify(s));
    for (const s of mutations(UUIDS.slice(0, 3), 20_000)) assert.equal(isUuid(s), referenceUuid.test(s), JSON.stringify(s));
  });
});
