// The list of requests whose body is being read (src/http/reading-list.ts): what the late-body sweep
// walks. Every request passes through it, so it must not allocate per request, not even once it has
// lived long enough to sit in V8's old generation, where a Set's churn allocates a new table per delete.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { ReadingList } from '../../src/http/reading-list';

interface Entry {
  readonly name: string;
  readingIndex: number;
  late: boolean;
}

const entry = (name: string, late = false): Entry => ({ name, readingIndex: -1, late });
const names = (entries: readonly Entry[]): string[] => entries.map((e) => e.name).sort();

/** A full GC on demand, without the test runner needing --expose-gc. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

const oldSpaceUsed = (): number => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'old_space')!.space_used_size;

describe('ReadingList', () => {
  it('adds, deletes from any position, and ignores a delete of an entry it does not hold', () => {
    const list = new ReadingList<Entry>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => entry(n));
    for (const e of [a!, b!, c!, d!]) list.add(e);
    list.delete(b!);
    assert.equal(b!.readingIndex, -1);
    list.delete(b!);
    list.delete(entry('never added'));
    list.delete(d!);
    list.delete(a!);
    assert.deepEqual(names(list.takeWhere(() => true)), ['c'], 'the one left is the one never deleted');
    assert.deepEqual(list.takeWhere(() => true), [], 'and taking it out emptied the list');
  });

  it('takes out exactly the entries picked, wherever they sit, and keeps the others deletable', () => {
    const list = new ReadingList<Entry>();
    const entries = Array.from({ length: 9 }, (_, i) => entry(`e${i}`, i % 3 !== 1));
    for (const e of entries) list.add(e);
    const taken = list.takeWhere((e) => e.late);
    assert.deepEqual(names(taken), ['e0', 'e2', 'e3', 'e5', 'e6', 'e8']);
    assert.ok(taken.every((e) => e.readingIndex === -1));
    const kept = entries.filter((e) => !e.late);
    list.delete(kept[1]!);
    assert.deepEqual(names(list.takeWhere(() => true)), ['e1', 'e7'], 'each kept entry still knew its slot after the moves');
  });

  it('churns without growing the old generation once the list itself is old', () => {
    const list = new ReadingList<Entry>();
    for (let i = 0; i < 64; i++) list.add(entry(`held ${i}`));
    collectGarbage();
    collectGarbage(); // the list and its backing store now live in the old generation
    list.takeWhere(() => true);
    const before = oldSpaceUsed();
    for (let i = 0; i < 200_000; i++) {
      const request = entry('request');
      list.add(request);
      list.delete(request);
    }
    const grown = oldSpaceUsed() - before;
    // A Set used the same way grew it by ~12 MB here: a new hash table in the old generation per delete.
    assert.ok(grown < 256 * 1024, `old space grew ${grown} bytes over 200,000 requests`);
  });
});
