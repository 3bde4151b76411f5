/** config/grafana/sluice.json: the issue-5 panels, built only from metrics Sluice exports. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Metrics } from '../../src/metrics';
import { Scrape } from '../helpers/metrics';
import { dashboard, dashboardQueries } from '../helpers/dashboard';

const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

describe('§8 Grafana dashboard', () => {
  it('has the panels operators need: events/s by outcome and stream, latency percentiles, pool, sink queue, errors, EventStreams, CPU wait', () => {
    const titles: string[] = dashboard().panels.map((p: { title: string }) => p.title);
    for (const needed of ['Events/s by outcome', 'Events/s by stream', 'Intake latency (guaranteed)', 'Worker pool', 'Sink queue', 'Errors/s', 'EventStreams clients and consumers', 'Threads waiting for a CPU (seconds per second)']) {
      assert.ok(titles.includes(needed), needed);
    }
    assert.ok(dashboardQueries().some((q) => q.expr.startsWith('histogram_quantile(0.99, ')), 'a p99 from the histogram');
  });

  it('every panel id is unique', () => {
    const ids = dashboard().panels.map((p: { id: number }) => p.id);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('every metric a query names is one Sluice exports, with that type', async () => {
    const exported = new Scrape(await new Metrics().registry.metrics());
    for (const { panel, expr } of dashboardQueries()) {
      for (const [name] of expr.matchAll(/\bsluice_[a-z0-9_]+/g)) {
        const base = exported.type(name) ? name : name.replace(HISTOGRAM_SERIES, '');
        assert.ok(exported.type(base), `${panel}: ${name} is not exported`);
        if (base !== name) assert.equal(exported.type(base), 'histogram', `${panel}: ${name}`);
      }
    }
  });
});
