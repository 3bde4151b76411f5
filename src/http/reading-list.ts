/** An entry of a ReadingList: where it sits in the list, -1 when it is in none. */
export interface ReadingEntry {
  readingIndex: number;
}

/**
 * The requests whose body is still being read, kept for the late-body sweep: an array with
 * swap-remove, which allocates nothing while its length stays within what it has held.
 *
 * Not a Set: every request is added and removed within a few milliseconds, and V8 gives a Set a new
 * hash table whenever a delete leaves it nearly empty. The new table goes where the old one was, so
 * once a table has lived through two scavenges (a slow body, an overload) every delete allocates in
 * the old generation. After the bench's overloads that was 2 MB/s at 20,000 requests/s and a
 * mark-compact every 2 to 3 s on the HTTP thread (bench/RESULTS.md, 2026-12-07).
 */
export class ReadingList<T extends ReadingEntry> {
  private readonly entries: T[] = [];

  add(entry: T): void {
    entry.readingIndex = this.entries.length;
    this.entries.push(entry);
  }

  /** Takes `entry` out; one that is not in the list is left alone. */
  delete(entry: T): void {
    const index = entry.readingIndex;
    if (index < 0) return;
    const last = this.entries.pop()!;
    if (last !== entry) {
      this.entries[index] = last;
      last.readingIndex = index;
    }
    entry.readingIndex = -1;
  }

  /** Takes out and returns the entries `picked` chooses. */
  takeWhere(picked: (entry: T) => boolean): T[] {
    const taken: T[] = [];
    // From the end: a delete moves the last entry into the freed slot, and that one was seen already.
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]!;
      if (!picked(entry)) continue;
      this.delete(entry);
      taken.push(entry);
    }
    return taken;
  }
}
