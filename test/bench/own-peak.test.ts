// The p99 target's own terms, a fixed arrival rate at 80 % of a server's own peak, applied to the two
// reference servers as well as to Sluice: bare uWS (no worker) and the bare split (DESIGN.md §1's
// thread split doing only the work no gateway can skip). Beside Sluice's figure they tell what the
// machine and the architecture allow at that load.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTargets } from '../../bench/goals';
import { makePlan, type Case } from '../../bench/plan';
import { summarize } from '../../bench/report';
import { benchRun } from '../helpers/bench-run';

function openAtOwnPeak(target: string): Case[] {
  return makePlan(false, [target]).cases.filter((c) => c.load.kind === 'open' && c.load.of.target === target);
}

describe('bench p99 at a share of each server’s own peak', () => {
  it('is planned at 50 and 80 % for Sluice, bare uWS and the bare split, each after the closed loop its peak comes from', () => {
    for (const target of ['sluice', 'ceiling', 'bare-split']) {
      const all = makePlan(false, [target]).cases;
      const ownPeak = (c: Case) => c.load.kind === 'open' && c.load.of.target === target && c.workload === 'trivial1';
      assert.deepEqual(
        all.filter(ownPeak).map((c) => (c.load.kind === 'open' ? c.load.share : null)),
        [0.5, 0.8],
        target,
      );
      const closedIndex = all.findIndex((c) => c.load.kind === 'closed' && c.workload === 'trivial1' && c.connections === 100);
      assert.ok(closedIndex >= 0 && closedIndex < all.findIndex(ownPeak), `${target}: the closed loop runs first`);
    }
    assert.equal(openAtOwnPeak('bare-split').length, 2, 'not in the quick version or at 50 events/req');
    assert.equal(makePlan(true, ['bare-split']).cases.filter((c) => c.load.kind === 'open').length, 0);
  });

  it('is given for both reference servers in the p99 target’s line, which is still judged on Sluice alone', () => {
    const at = (target: string, offered: number, p99: number) => {
      const c = openAtOwnPeak(target).find((x) => x.workload === 'trivial1' && x.load.kind === 'open' && x.load.share === 0.8)!;
      return summarize(c, [benchRun({ latencyMs: { mean: 1, max: p99, p50: 1, p90: 1, p99, p99_9: p99 } })], 250, offered, 100, true);
    };
    const [sluice, ceiling, bareSplit] = [at('sluice', 28_087, 4.5), at('ceiling', 41_700, 6.25), at('bare-split', 33_900, 12.5)];
    const target = checkTargets([sluice, ceiling, bareSplit]).find((t) => t.goal.startsWith('80% of peak'))!;
    assert.equal(target.met, true, 'Sluice under 5 ms meets it, whatever the others had');
    assert.match(target.measured, /^p99 4\.50 ms at 28,087 requests\/s offered/);
    assert.match(target.measured, /; bare uWS at 80 % of its own peak \(41,700 requests\/s\): p99 6\.25 ms; the bare split at 80 % of its own peak \(33,900 requests\/s\): p99 12\.50 ms$/);
    assert.doesNotMatch(checkTargets([sluice, ceiling]).find((t) => t.goal.startsWith('80% of peak'))!.measured, /bare split/, 'nothing said of a case not run');
  });
});
