// Sluice's own latency histogram, read from its /metrics around a run: how long Sluice took from the
// handler's start to the reply, beside what wrk measured. Prometheus buckets are cumulative counts by
// upper bound, so a run's figures come from the difference of two scrapes.

/** Cumulative counts of a histogram by upper bound in seconds (`+Inf` as Infinity). */
export type Buckets = Map<number, number>;

/**
 * The `_bucket` series of histogram `name` that carry the label `label` (e.g. `route="/v1/events"`),
 * summed by bound over their other labels. Label values are taken not to contain commas.
 */
export function histogramBuckets(text: string, name: string, label: string): Buckets {
  const buckets: Buckets = new Map();
  const prefix = `${name}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const close = line.lastIndexOf('}');
    const labels = line.slice(prefix.length, close).split(',');
    if (!labels.includes(label)) continue;
    const le = labels.find((l) => l.startsWith('le="'))?.slice(4, -1);
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(close + 1).trim().split(' ')[0]));
  }
  return buckets;
}

/** What was counted between two scrapes of the same histogram. */
export function bucketDelta(before: Buckets, after: Buckets): Buckets {
  const delta: Buckets = new Map();
  for (const [bound, count] of after) delta.set(bound, count - (before.get(bound) ?? 0));
  return delta;
}

function total(buckets: Buckets): number {
  return buckets.get(Infinity) ?? 0;
}

/** Share (0..1) of the observations above `bound` seconds, which must be a bucket bound; null when none were counted or it is not one. */
export function shareAbove(buckets: Buckets, bound: number): number | null {
  const all = total(buckets);
  const atMost = buckets.get(bound);
  return all > 0 && atMost !== undefined ? (all - atMost) / all : null;
}

/**
 * The smallest bucket bound (seconds) that holds at least the share `q` of the observations: the
 * quantile is at most this. Exact where a finer figure would be an interpolation. Null when none were counted.
 */
export function quantileBound(buckets: Buckets, q: number): number | null {
  const all = total(buckets);
  if (all === 0) return null;
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  return bounds.find((bound) => buckets.get(bound)! >= q * all) ?? Infinity;
}
