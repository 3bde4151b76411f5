import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { arrayElementSpans } from '../../workers/spans';

function elements(text: string): unknown[] {
  const spans = arrayElementSpans(text);
  const found: unknown[] = [];
  for (let i = 0; i < spans.length; i += 2) found.push(JSON.parse(text.slice(spans[i], spans[i + 1])));
  return found;
}

/** JSON text of `values` with arbitrary JSON whitespace between tokens (outside strings). */
function spaced(values: unknown[], gaps: string[]): string {
  let g = 0;
  const gap = (): string => gaps[g++ % gaps.length]!;
  const write = (value: unknown): string => {
    if (Array.isArray(value)) return `[${gap()}${value.map((v) => write(v)).join(`${gap()},${gap()}`)}${gap()}]`;
    if (value !== null && typeof value === 'object') {
      const members = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}${gap()}:${gap()}${write(v)}`);
      return `{${gap()}${members.join(`${gap()},${gap()}`)}${gap()}}`;
    }
    return JSON.stringify(value);
  };
  return `${gap()}${write(values)}${gap()}`;
}

describe('array element spans (the text of one event in a batch body)', () => {
  it('finds each element of compact and pretty-printed arrays', () => {
    const events = [{ a: 1, b: '],}{["\\' }, [1, [2]], 'x,y', 3.5e-7, null, true, {}];
    assert.deepEqual(elements(JSON.stringify(events)), events);
    assert.deepEqual(elements(JSON.stringify(events, null, 2)), events);
    assert.deepEqual(elements(' \n[ "\\u005d" ,\t{"q":"\\"]"} ]\r\n'), [']', { q: '"]' }]);
  });

  it('slices parse back to the elements for generated values and whitespace', () => {
    const whitespace = fc.array(fc.constantFrom('', ' ', '\n', '\t', '\r\n  '), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 12 }), whitespace, (values, gaps) => {
        const normalised = JSON.parse(JSON.stringify(values)) as unknown[]; // -0 and the like as JSON has them
        assert.deepEqual(elements(spaced(normalised, gaps)), normalised);
      }),
      { numRuns: 2000 },
    );
  });
});
