import { describe, expect, it } from '@jest/globals';
import { compareShadow, rocAuc, spearman } from './shadow-comparison.js';

describe(compareShadow.name, () => {
  it('scores both models on the same impressions: logloss, AUC, predicted over observed', () => {
    const sut = compareShadow([
      { live: 0.2, shadow: 0.9, clicked: true },
      { live: 0.4, shadow: 0.1, clicked: false },
      { live: 0.1, shadow: 0.2, clicked: false },
      { live: 0.3, shadow: 0.3, clicked: true },
    ]);

    expect(sut).toMatchObject({ impressions: 4, clicks: 2, observed: 0.5 });
    expect(sut.live.auc).toBeCloseTo(0.5, 12);
    expect(sut.shadow.auc).toBeCloseTo(1, 12);
    expect(sut.live.predicted).toBeCloseTo(0.25, 12);
    expect(sut.live.predictedOverObserved).toBeCloseTo(0.5, 12);
    const liveLoss = -(Math.log(0.2) + Math.log(0.6) + Math.log(0.9) + Math.log(0.3)) / 4;
    expect(sut.live.logloss).toBeCloseTo(liveLoss, 12);
    expect(sut.loglossDelta).toBeCloseTo(sut.shadow.logloss - liveLoss, 12);
    expect(sut.rankCorrelation).toBeCloseTo(spearman([0.2, 0.4, 0.1, 0.3], [0.9, 0.1, 0.2, 0.3])!, 12);
  });

  it('has no AUC, ratio or correlation where they are undefined, instead of a made-up number', () => {
    const sut = compareShadow([{ live: 0.1, shadow: 0.2, clicked: false }]);

    expect(sut.live).toMatchObject({ auc: null, predictedOverObserved: null });
    expect(sut.rankCorrelation).toBeNull();
  });
});

describe(rocAuc.name, () => {
  it('counts a tie between a click and a non-click as half', () => {
    expect(rocAuc([0.5, 0.5, 0.1], [true, false, false])).toBeCloseTo(0.75, 12);
  });
});

describe(spearman.name, () => {
  it('is 1 for the same order, -1 for the reverse, with ties at their mean rank', () => {
    expect(spearman([1, 2, 3], [10, 20, 30])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 2], [1, 2, 3])).toBeCloseTo(0.8660254, 6);
    expect(spearman([1, 1], [1, 2])).toBeNull();
  });
});
