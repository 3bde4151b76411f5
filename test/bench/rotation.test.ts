// The bench's rotation (bench/plan.ts, report.ts, goals.ts): per-round ratios to the baseline and their
// median; the 1 event/req ceiling target is judged on the rotation when a run has one.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTargets } from '../../bench/goals';
import { makePlan } from '../../bench/plan';
import { formatTable, summarizeRotation, type BenchReport } from '../../bench/report';

const GOAL = '1 event/req, null sink ≥ 50% of the HTTP ceiling';

describe('bench rotation', () => {
  it('takes each round’s ratio to the baseline, then the median over the rounds', () => {
    const rounds = [
      { ceiling: 100_000, 'bare-split': 50_000, sluice: 40_000 },
      { ceiling: 80_000, 'bare-split': 44_000, sluice: 44_000 }, // a slow round for everyone: ratios hold
      { ceiling: 120_000, 'bare-split': 54_000, sluice: 54_000 },
    ];
    const result = summarizeRotation('x', 'ceiling', rounds);
    assert.deepEqual(Object.keys(result.medianRatio).sort(), ['bare-split', 'sluice']);
    assert.equal(result.medianRatio.sluice, 0.45); // of 0.40, 0.55, 0.45
    assert.equal(result.medianRatio['bare-split'], 0.5); // of 0.50, 0.55, 0.45
  });

  it('leaves the rounds set aside for the hypervisor’s steal out of the ratios, and lists them', () => {
    const disturbed = { requestsPerSecond: { ceiling: 50_631, sluice: 40_000 }, stolen: 0.301 };
    const result = summarizeRotation('x', 'ceiling', [{ ceiling: 100_000, sluice: 50_000 }], [disturbed]);
    assert.equal(result.medianRatio.sluice, 0.5);
    assert.deepEqual(result.setAsideRounds, [disturbed]);
    const text = formatTable({ measurements: [], ratios: [], targets: [], failures: [], rotation: result } as unknown as BenchReport);
    assert.match(text, /round 1: ceiling 100,000, sluice 50,000 requests\/s\n {2}set aside, 30\.1 % stolen: ceiling 50,631, sluice 40,000 requests\/s\n {2}median share of the ceiling over the rounds: sluice 50\.0 %/);
  });

  it('judges the ceiling share on the rotation when there is one, else on the separate cases', () => {
    const met = summarizeRotation('x', 'ceiling', [{ ceiling: 100, sluice: 51 }]);
    const missed = summarizeRotation('x', 'ceiling', [{ ceiling: 100, sluice: 49 }]);
    const target = (rotation: ReturnType<typeof summarizeRotation> | null) => checkTargets([], rotation).find((t) => t.goal === GOAL)!;
    assert.equal(target(met).met, true);
    assert.match(target(met).measured, /^51\.0 %, median of 1 rounds in rotation/);
    assert.equal(target(missed).met, false);
    assert.equal(target(null).met, null, 'no rotation and no cases: not measured');
  });

  it('is planned with the ceiling first, and dropped when --targets leaves out the ceiling or sluice', () => {
    assert.deepEqual(makePlan(false, null).rotation?.targets, ['ceiling', 'bare-split', 'sluice']);
    assert.deepEqual(makePlan(true, ['ceiling', 'sluice']).rotation?.targets, ['ceiling', 'sluice']);
    assert.equal(makePlan(true, ['sluice']).rotation, null);
    assert.equal(makePlan(false, ['ceiling', 'naive']).rotation, null);
  });
});
