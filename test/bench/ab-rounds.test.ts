// bench/ab.ts's rounds: how a round counts its events/s and its disturbance, and the line it prints.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventsPerSecond, formatRound, type Round, type SideRun } from '../../bench/ab';
import type { LoadResult } from '../../bench/load';
import { overStealLimit, worseStolen } from '../../bench/report';

function sideRun(requests: number, non2xx: number, p99: number, stolen: number | null): SideRun {
  const percentiles = { p50: p99 / 4, p90: p99 / 2, p99, p99_9: p99 * 2, max: p99 * 3 };
  const run: LoadResult = {
    requests,
    durationSeconds: 8,
    requestsPerSecond: requests / 8,
    openLoop: false,
    timedResponses: requests,
    unanswered: 0,
    non2xx,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
    latencyMs: { ...percentiles, mean: p99 / 3 },
    parts: null,
  } as LoadResult;
  return { run, stolen, damonMsPerSecond: 4.25 };
}

describe('bench/ab.js rounds', () => {
  it('counts a round as disturbed as its worse run, an unknown share counting as neither', () => {
    assert.equal(worseStolen(null, null), null);
    assert.equal(worseStolen(null, 0.02), 0.02);
    assert.equal(worseStolen(0.08, null), 0.08);
    assert.equal(worseStolen(0.01, 0.07), 0.07);
    // One side over the limit is enough to set the round aside.
    assert.equal(overStealLimit(worseStolen(0.01, 0.07)), true);
    assert.equal(overStealLimit(worseStolen(0.01, 0.02)), false);
  });

  it('counts only 2xx answers, times the events per request', () => {
    const round: Round = { order: ['this', 'baseline'], bySide: { this: sideRun(8_000, 800, 10, 0), baseline: sideRun(4_000, 0, 20, 0) } };
    assert.deepEqual(eventsPerSecond(round, 50), { this: 45_000, baseline: 25_000 });
  });

  it('prints the round number, the order, both sides, the ratio and the refused answers', () => {
    const round: Round = { order: ['baseline', 'this'], bySide: { this: sideRun(16_000, 0, 12.5, 0.001), baseline: sideRun(8_000, 3, 40, null) } };
    const line = formatRound(7, round, 1);
    const cells = line.trim().split(/\s{2,}/);
    assert.deepEqual(cells, ['7', 'baseline → this', '2000', '1000', '2.00', '12.50', '40.00', '0.1 %', '-', '4.3 / 4.3', '3']);
  });
});
