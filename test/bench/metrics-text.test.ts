import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricSum, metricValue } from '../../bench/targets';

const SCRAPE = [
  '# HELP sluice_nodejs_gc_duration_seconds Garbage collection duration by kind.',
  '# TYPE sluice_nodejs_gc_duration_seconds histogram',
  'sluice_nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 80',
  'sluice_nodejs_gc_duration_seconds_sum{kind="minor"} 0.0731',
  'sluice_nodejs_gc_duration_seconds_count{kind="minor"} 81',
  'sluice_nodejs_gc_duration_seconds_sum{kind="major"} 0.25',
  'sluice_nodejs_gc_duration_seconds_sum_other 99',
  'sluice_inflight_bytes 0',
].join('\n');

describe('bench: reading Prometheus text', () => {
  it('sums a series over all its labels, and ignores names it only starts with', () => {
    assert.equal(metricSum(SCRAPE, 'sluice_nodejs_gc_duration_seconds_sum'), 0.0731 + 0.25);
    assert.equal(metricSum(SCRAPE, 'sluice_inflight_bytes'), 0);
    assert.ok(Number.isNaN(metricSum(SCRAPE, 'sluice_absent')));
  });

  it('reads an unlabelled value', () => {
    assert.equal(metricValue(SCRAPE, 'sluice_inflight_bytes'), 0);
    assert.ok(Number.isNaN(metricValue(SCRAPE, 'sluice_nodejs_gc_duration_seconds_sum')));
  });
});
