import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricSum, metricValue, taskStageMeans, type TaskStageTotals } from '../../bench/targets';

const SCRAPE = [
  '# HELP sluice_nodejs_gc_duration_seconds Garbage collection duration by kind.',
  '# TYPE sluice_nodejs_gc_duration_seconds histogram',
  'sluice_nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 80',
  'sluice_nodejs_gc_duration_seconds_sum{kind="minor"} 0.0731',
  'sluice_nodejs_gc_duration_seconds_count{kind="minor"} 81',
  'sluice_nodejs_gc_duration_seconds_sum{kind="major"} 0.25',
  'sluice_nodejs_gc_duration_seconds_sum_other 99',
  'sluice_inflight_bytes 0',
  'sluice_task_stage_seconds_sum{stage="worker"} 1.5',
  'sluice_task_stage_seconds_sum{stage="to_worker"} 0.25',
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

  it('reads the value of one label set, and no other', () => {
    assert.equal(metricValue(SCRAPE, 'sluice_task_stage_seconds_sum', 'stage="worker"'), 1.5);
    assert.equal(metricValue(SCRAPE, 'sluice_task_stage_seconds_sum', 'stage="to_worker"'), 0.25);
    assert.ok(Number.isNaN(metricValue(SCRAPE, 'sluice_task_stage_seconds_sum', 'stage="to_main"')));
    assert.equal(metricValue(SCRAPE, 'sluice_nodejs_gc_duration_seconds_sum', 'kind="major"'), 0.25);
  });

  it("gives each task stage's mean milliseconds between two scrapes", () => {
    const totals = (seconds: number, tasks: number): TaskStageTotals => ({
      batching: { seconds: seconds * 4, tasks },
      to_worker: { seconds, tasks },
      worker: { seconds: seconds * 2, tasks },
      to_main: { seconds: seconds / 2, tasks },
    });
    assert.deepEqual(taskStageMeans(totals(1, 1000), totals(1.5, 2000)), { batching: 2, to_worker: 0.5, worker: 1, to_main: 0.25 });
    assert.equal(taskStageMeans(totals(1, 1000), totals(1, 1000)), null, 'no task ran between them');
  });
});
