import { describe, expect, it } from '@jest/globals';
import { runGsp } from './gsp.js';
import { DEFAULT_UTILITY_WEIGHTS, utility, valueNeededFor } from './utility.js';

describe(utility.name, () => {
  it('is the advertiser value alone by default: CPC 0.40 x 0.05 = 0.02', () => {
    const sut = utility({ bidType: 'CPC', bid: 0.4, pCtr: 0.05, pCvr: 0.1 });
    expect(DEFAULT_UTILITY_WEIGHTS).toEqual({ advertiserValue: 1 });
    expect(sut.valuePerImpression).toBeCloseTo(0.02, 12);
    expect(sut.otherTerms).toBe(0);
    expect(sut.utility).toBeCloseTo(0.02, 12);
  });

  it('scales with the advertiser-value weight, and valueNeededFor inverts it: 2 x 0.02 = 0.04; utility 0.03 needs 0.015', () => {
    const weights = { advertiserValue: 2 };
    const sut = utility({ bidType: 'CPC', bid: 0.4, pCtr: 0.05, pCvr: 0.1 }, weights);
    expect(sut.utility).toBeCloseTo(0.04, 12);
    expect(valueNeededFor(0.03, sut, weights)).toBeCloseTo(0.015, 12);
    expect(valueNeededFor(-1, sut, weights)).toBe(0);
  });

  it('leaves GSP prices unchanged when only the advertiser-value weight changes', () => {
    const candidates = [
      { adId: 1, campaignId: 1, advertiserId: 1, bidType: 'CPC' as const, bid: 1, pCtr: 0.03, pCvr: 0.05 },
      { adId: 2, campaignId: 2, advertiserId: 2, bidType: 'CPM' as const, bid: 20, pCtr: 0.01, pCvr: 0.05 },
    ];
    const base = runGsp({ candidates, slots: 2, reservePerImpression: 0.0005 });
    const scaled = runGsp({
      candidates,
      slots: 2,
      reservePerImpression: 0.0005,
      weights: { advertiserValue: 3 },
    });
    expect(scaled.winners.map((w) => [w.adId, w.price])).toEqual(base.winners.map((w) => [w.adId, w.price]));
  });
});
