/**
 * DESIGN.md §8 metrics as a real Prometheus sees them: Prometheus scrapes Sluice's metrics.port
 * listener every second, and its query API answers sluice_events_total with the counts the test sent.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Json, Sluice } from '../helpers/server';
import { sleep } from '../helpers/server';
import { dashboardQueries } from '../helpers/dashboard';
import { startPrometheus, type Prometheus } from '../helpers/prometheus';
import { MIX_EVENTS, sendMix, settledScrape, startWithBrokenStream } from '../helpers/request-mix';

const QUERY_TIMEOUT_MS = 15_000;

describe('§8 a real Prometheus scrapes Sluice', () => {
  let s: Sluice;
  let prometheus: Prometheus | undefined;
  before(async () => {
    s = await startWithBrokenStream({ metrics: { path: '/metrics', port: 0 } });
    await sendMix(s.url);
    await settledScrape(s.metricsUrl);
    prometheus = await startPrometheus(new URL(s.metricsUrl).host, '/metrics');
  });
  after(async () => {
    await prometheus?.stop();
    await s?.stop();
  });

  it('finds sluice_events_total by stream and outcome with the exact counts sent', async () => {
    const expected = new Map<string, number>();
    for (const [stream, outcomes] of Object.entries(MIX_EVENTS)) {
      for (const [outcome, n] of Object.entries(outcomes)) if (n > 0) expected.set(`${stream}/${outcome}`, n);
    }
    const deadline = Date.now() + QUERY_TIMEOUT_MS;
    let seen = new Map<string, number>();
    while (Date.now() < deadline) {
      const result = await prometheus!.query('sluice_events_total');
      seen = new Map(result.map((r: Json) => [`${r.metric.stream}/${r.metric.outcome}`, Number(r.value[1])]));
      if (seen.size >= expected.size) break;
      await sleep(250);
    }
    assert.deepEqual(seen, expected);
  });

  it('labels each series with the scrape job, and the target is up', async () => {
    const up = await prometheus!.query('up{job="sluice"}');
    assert.equal(up.length, 1);
    assert.equal(up[0].value[1], '1');
    const events = await prometheus!.query('sum(sluice_events_total)');
    assert.equal(Number(events[0].value[1]), [...Object.values(MIX_EVENTS)].reduce((n, o) => n + o.success + o.invalid + o.error, 0));
  });

  it('accepts every query of the Grafana dashboard, and the events panels have data', async () => {
    for (const { panel, expr } of dashboardQueries()) await prometheus!.query(expr).catch((err: Error) => assert.fail(`${panel}: ${err.message}`));
    const byOutcome = await prometheus!.query('sum by (outcome) (sluice_events_total)');
    assert.deepEqual(byOutcome.map((r: Json) => r.metric.outcome).sort(), ['error', 'invalid', 'success']);
  });
});
