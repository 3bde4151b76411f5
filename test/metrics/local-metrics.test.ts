/** src/local-metrics.ts: the per-request families render exactly what prom-client's own would. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { LocalCounter, LocalHistogram } from '../../src/local-metrics';

const BUCKETS = [0.001, 0.01, 0.1];
const LABELS = ['route', 'mode'];

describe('local metric families', () => {
  it('a LocalHistogram renders like a prom-client Histogram: inclusive bounds, +Inf, sum and count', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Histogram({ name: 'h_seconds', help: 'h', buckets: BUCKETS, labelNames: LABELS, registers: [theirs] });
    const local = new LocalHistogram(ours, 'h_seconds', 'h', BUCKETS, LABELS);
    for (const [route, mode, value] of [['/a', 'x', 0.001], ['/a', 'x', 0.0005], ['/a', 'x', 5], ['/b', 'y', 0.05]] as const) {
      reference.labels(route, mode).observe(value);
      local.labels(route, mode).observe(value);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
  });

  it('a LocalCounter renders like a prom-client Counter', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Counter({ name: 'c_total', help: 'c', labelNames: LABELS, registers: [theirs] });
    const local = new LocalCounter(ours, 'c_total', 'c', LABELS);
    for (const [route, mode, n] of [['/a', 'x', 1], ['/a', 'x', 2], ['/b', 'y', 1]] as const) {
      reference.labels(route, mode).inc(n);
      local.labels(route, mode).inc(n);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
  });

  it('the same label values give the same child', () => {
    const local = new LocalCounter(new Registry(), 'c_total', 'c', LABELS);
    assert.equal(local.labels('/a', 'x'), local.labels('/a', 'x'));
  });
});
