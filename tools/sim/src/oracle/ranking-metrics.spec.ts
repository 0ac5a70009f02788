import { describe, expect, it } from '@jest/globals';
import { RankingMetricsAccumulator, auc, crossEntropy } from './ranking-metrics.js';

describe(auc.name, () => {
  it('is 1 for a perfect ranking, 0 for a reversed one, 0.5 for all ties', () => {
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
  });

  it('counts pairs: positives 0.8, 0.4 against negatives 0.6, 0.2 win 3 of 4 pairs', () => {
    expect(auc([0.8, 0.6, 0.4, 0.2], [1, 0, 1, 0])).toBe(0.75);
  });

  it('is undefined with a single class', () => {
    expect(auc([0.1, 0.2], [0, 0])).toBeNaN();
  });
});

describe(crossEntropy.name, () => {
  it('is -log q on a positive and -log(1 - q) on a negative, clipped away from infinity', () => {
    expect(crossEntropy(0.25, 1)).toBeCloseTo(Math.log(4), 12);
    expect(crossEntropy(0.25, 0)).toBeCloseTo(-Math.log(0.75), 12);
    expect(Number.isFinite(crossEntropy(0, 1))).toBe(true);
  });
});

describe(RankingMetricsAccumulator.name, () => {
  it('reports the model against the truth and the Bayes floor on the same draws', () => {
    const sut = new RankingMetricsAccumulator();
    // truth 0.2 everywhere; the model says 0.4: miscalibrated by 2x
    const labels: (0 | 1)[] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    for (const y of labels) sut.add(0.4, 0.2, y);
    const r = sut.result()!;
    expect(r.rows).toBe(10);
    expect(r.positives).toBe(2);
    expect(r.logloss).toBeCloseTo(-(0.2 * Math.log(0.4) + 0.8 * Math.log(0.6)), 12);
    expect(r.bayesLogloss).toBeCloseTo(-(0.2 * Math.log(0.2) + 0.8 * Math.log(0.8)), 12);
    expect(r.expectedLogloss).toBeGreaterThan(r.expectedBayesLogloss);
    expect(r.calibration).toBeCloseTo(2, 6);
    expect(r.auc).toBe(0.5);
  });

  it('sees a model equal to the truth reach the floor, and grows past its first buffer', () => {
    const sut = new RankingMetricsAccumulator();
    for (let i = 0; i < 5000; i++) {
      const p = (i % 100) / 100;
      sut.add(p, p, i % 100 >= 70 ? 1 : 0);
    }
    const r = sut.result()!;
    expect(r.rows).toBe(5000);
    expect(r.logloss).toBeCloseTo(r.bayesLogloss, 6);
    expect(r.expectedLogloss).toBeCloseTo(r.expectedBayesLogloss, 6);
    expect(r.auc).toBe(1);
  });

  it('returns null before any row and refuses a prediction outside [0, 1]', () => {
    const sut = new RankingMetricsAccumulator();
    expect(sut.result()).toBeNull();
    expect(() => sut.add(1.2, 0.5, 1)).toThrow(/predicted probability must be in \[0, 1\]/);
  });
});
