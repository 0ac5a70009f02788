import { describe, expect, it } from '@jest/globals';
import { Rng } from '@adfunnel/simulator';
import { type ArmSummary, budgetSplitEstimates, summarizeArm } from './budget-split-estimates.js';

/** `n` users whose revenue is Poisson-like around `mean` (an exponential draw). */
function arm(which: 'control' | 'treatment', n: number, mean: number, seed: number): ArmSummary {
  const rng = Rng.derive(seed, 'budget-split-estimates');
  const revenue = Array.from({ length: n }, () => -Math.log(1 - rng.next()) * mean);
  return summarizeArm({ arm: which, revenue, impressions: revenue.map((r) => Math.round(r * 100)) });
}

describe(budgetSplitEstimates.name, () => {
  it("measures each 50/50 design's bias against the launch effect, with the runs' variances added", () => {
    const estimates = budgetSplitEstimates({
      'global-control': [arm('control', 4000, 0.01, 1)],
      'global-treatment': [arm('treatment', 4000, 0.012, 2)],
      // Cannibalization: the naive treatment takes its control's money, +100% instead of +20%.
      naive: [arm('control', 2000, 0.0075, 3), arm('treatment', 2000, 0.015, 4)],
      'budget-split': [arm('control', 2000, 0.01, 5), arm('treatment', 2000, 0.012, 6)],
    });
    expect(estimates.globalEffect.relativeLift.estimate).toBeGreaterThan(0.1);
    expect(estimates.globalEffect.relativeLift.estimate).toBeLessThan(0.3);
    expect(estimates.naive.bias.ci[0]).toBeGreaterThan(0);
    expect(estimates.naive.liftBias.estimate).toBeGreaterThan(0.5);
    expect(estimates.budgetSplit.bias.ci[0]).toBeLessThan(0);
    expect(estimates.budgetSplit.bias.ci[1]).toBeGreaterThan(0);
    const { naive, globalEffect } = estimates;
    expect(naive.bias.estimate).toBeCloseTo(naive.difference.estimate - globalEffect.difference.estimate, 12);
    expect(naive.bias.standardError).toBeCloseTo(
      Math.hypot(naive.difference.standardError, globalEffect.difference.standardError),
      12,
    );
  });

  it('says which design lacks an arm', () => {
    const control = arm('control', 10, 1, 1);
    expect(() =>
      budgetSplitEstimates({
        'global-control': [control],
        'global-treatment': [control],
        naive: [control],
        'budget-split': [control],
      }),
    ).toThrow('design global-treatment has no treatment arm');
  });

  it('summarizes an arm over every user, non-visitors as zeros', () => {
    const summary = summarizeArm({ arm: 'control', revenue: [0, 0, 0.3, 0.1], impressions: [0, 0, 3, 1] });
    expect(summary).toMatchObject({ arm: 'control', users: 4, revenue: expect.closeTo(0.4, 12) });
    expect(summary.revenuePerUser.mean).toBeCloseTo(0.1, 12);
    expect(summary.impressionsPerUser.mean).toBe(1);
  });
});
