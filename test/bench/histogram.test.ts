import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketDelta, histogramBuckets, quantileBound, shareAbove } from '../../bench/histogram';

const NAME = 'sluice_http_request_duration_seconds';
const ROUTE = 'route="/v1/events"';

/** A scrape of Sluice's latency histogram: cumulative counts for two modes of the route, and another route. */
function scrape(guaranteed: number[], hasty: number[], metrics: number[]): string {
  const bounds = ['0.001', '0.005', '0.01', '+Inf'];
  const series = (route: string, mode: string, counts: number[]): string[] =>
    bounds.map((le, i) => `${NAME}_bucket{le="${le}",route="${route}",mode="${mode}"} ${counts[i]}`);
  return [
    `# TYPE ${NAME} histogram`,
    ...series('/v1/events', 'guaranteed', guaranteed),
    ...series('/v1/events', 'hasty', hasty),
    ...series('/metrics', 'other', metrics),
    `${NAME}_sum{route="/v1/events",mode="guaranteed"} 1.5`,
    `${NAME}_count{route="/v1/events",mode="guaranteed"} ${guaranteed[3]}`,
  ].join('\n');
}

describe('bench: Sluice latency histogram', () => {
  it('sums the route over its modes by bound, leaving other routes and series out', () => {
    const buckets = histogramBuckets(scrape([10, 20, 30, 40], [1, 2, 3, 4], [500, 500, 500, 500]), NAME, ROUTE);
    assert.deepEqual([...buckets].sort((a, b) => a[0] - b[0]), [
      [0.001, 11],
      [0.005, 22],
      [0.01, 33],
      [Infinity, 44],
    ]);
    assert.equal(histogramBuckets(scrape([1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]), NAME, 'route="/v2/other"').size, 0);
  });

  it('takes a run from the difference of two scrapes: share over a bound, and the bound the p99 is under', () => {
    const before = histogramBuckets(scrape([100, 100, 100, 100], [0, 0, 0, 0], [0, 0, 0, 0]), NAME, ROUTE);
    // This run: 900 under 1 ms, 95 more under 5 ms, 4 under 10 ms, 1 beyond.
    const after = histogramBuckets(scrape([1000, 1095, 1099, 1100], [0, 0, 0, 0], [7, 7, 7, 7]), NAME, ROUTE);
    const run = bucketDelta(before, after);
    assert.equal(run.get(Infinity), 1000);
    assert.equal(shareAbove(run, 0.005), 5 / 1000);
    assert.equal(shareAbove(run, 0.001), 100 / 1000);
    assert.equal(quantileBound(run, 0.99), 0.005);
    assert.equal(quantileBound(run, 0.9), 0.001);
    assert.equal(quantileBound(run, 0.999), 0.01);
    assert.equal(quantileBound(run, 1), Infinity);
  });

  it('says nothing for a run with no requests or a bound that is not a bucket', () => {
    const same = histogramBuckets(scrape([5, 6, 7, 8], [0, 0, 0, 0], [0, 0, 0, 0]), NAME, ROUTE);
    const none = bucketDelta(same, same);
    assert.equal(quantileBound(none, 0.99), null);
    assert.equal(shareAbove(none, 0.005), null);
    assert.equal(shareAbove(same, 0.002), null);
  });
});
