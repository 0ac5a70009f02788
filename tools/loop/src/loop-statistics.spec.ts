import { describe, expect, it } from '@jest/globals';
import { auc, pairedMeanDifference, proportionDifference, rowLogloss } from './loop-statistics.js';

describe('loop statistics', () => {
  it('gives the Wald interval of a difference of proportions', () => {
    const sut = proportionDifference({ successes: 100, trials: 1000 }, { successes: 150, trials: 1000 });

    expect(sut.estimate).toBeCloseTo(0.05, 12);
    const se = Math.sqrt((0.1 * 0.9) / 1000 + (0.15 * 0.85) / 1000);
    expect(sut.high - sut.estimate).toBeCloseTo(1.96 * se, 4);
    expect(sut.low).toBeGreaterThan(0);
  });

  it('gives the mean of paired differences and an interval that shrinks with n', () => {
    const small = pairedMeanDifference([1, -1, 1, -1, 2]);
    const large = pairedMeanDifference(Array.from({ length: 500 }, (_, i) => [1, -1, 1, -1, 2][i % 5]));

    expect(small.estimate).toBeCloseTo(0.4, 12);
    expect(large.estimate).toBeCloseTo(0.4, 12);
    expect(large.high - large.low).toBeLessThan((small.high - small.low) / 5);
  });

  it('computes AUC with ties as the pairwise definition does', () => {
    const scores = [0.1, 0.4, 0.4, 0.8, 0.2, 0.4];
    const labels = [0, 1, 0, 1, 0, 1];
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 6; j++)
        if (labels[i] === 1 && labels[j] === 0) {
          pairs++;
          wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
        }

    expect(auc(scores, labels)).toBeCloseTo(wins / pairs, 12);
    expect(auc([0.1, 0.2], [1, 1])).toBeNull();
  });

  it('clips probabilities in the logloss of a row', () => {
    expect(rowLogloss(0, 1)).toBeCloseTo(-Math.log(1e-7), 9);
    expect(rowLogloss(0.25, 0)).toBeCloseTo(-Math.log(0.75), 12);
  });
});
