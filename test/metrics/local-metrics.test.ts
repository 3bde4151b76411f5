/** src/local-metrics.ts: the per-request families render exactly what prom-client's own would. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { LocalCounter, LocalHistogram, SampledCounter } from '../../src/local-metrics';

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

  it('a SampledCounter renders the totals it reads like a prom-client Counter, and nothing before it has a source', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const reference = new Counter({ name: 'w_seconds_total', help: 'w', labelNames: ['thread'], registers: [theirs] });
    const sampled = new SampledCounter(ours, 'w_seconds_total', 'w', 'thread');
    assert.equal(await ours.metrics(), '# HELP w_seconds_total w\n# TYPE w_seconds_total counter\n', 'no source: no samples, not a 0');
    reference.labels('main').inc(1.5);
    reference.labels('other').inc(0.25);
    sampled.sampleFrom(() => ({ main: 1.5, other: 0.25 }));
    assert.equal(await ours.metrics(), await theirs.metrics());
  });
});
