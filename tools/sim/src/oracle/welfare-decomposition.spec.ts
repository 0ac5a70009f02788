import { describe, expect, it } from '@jest/globals';
import { replayWelfare, valueAsBid, type ReplayAd } from './welfare-decomposition.js';

/** True examination 1, 0.5 by slot; the auction's is flat, so the rules differ only where told. */
const halving = (slot: number) => 0.5 ** slot;
const FLAT = { examination: [1], reservePerImpression: 0 };

function ad(over: Partial<ReplayAd> & Pick<ReplayAd, 'adId'>): ReplayAd {
  return {
    campaignId: over.adId,
    advertiserId: over.adId,
    bidType: 'CPA',
    bid: 10,
    model: { pCtr: 0.1, pCvr: 0.1 },
    truePClick: 0.1,
    truePConversion: 0.1,
    valuePerConversion: 10,
    ...over,
  };
}

describe(replayWelfare.name, () => {
  it('scores the allocation by the truth: the model ranks ad 1 first, the truth prefers ad 2', () => {
    // True values per examined impression: ad 1 0.1 x 0.1 x 10 = 0.1, ad 2 0.2 x 0.1 x 10 = 0.2.
    const ads = [
      ad({ adId: 1, model: { pCtr: 0.3, pCvr: 0.1 } }),
      ad({ adId: 2, truePClick: 0.2, model: { pCtr: 0.1, pCvr: 0.1 } }),
    ];

    const sut = replayWelfare(ads, 1, halving, FLAT);

    expect(sut.model).toBeCloseTo(0.1, 12);
    expect(sut.trueProbabilities).toBeCloseTo(0.2, 12);
  });

  it('puts the ad of higher value first once bids are replaced by values (bid shading varies)', () => {
    // Same true probabilities; ad 1 bids 9 on a value of 10, ad 2 bids 8 on a value of 20.
    const ads = [ad({ adId: 1, bid: 9 }), ad({ adId: 2, bid: 8, valuePerConversion: 20 })];

    const sut = replayWelfare(ads, 1, halving, FLAT);

    expect(sut.trueProbabilities).toBeCloseTo(0.1, 12);
    expect(sut.trueValues).toBeCloseTo(0.2, 12);
  });

  it('leaves the model replay null when ranking gave no predictions', () => {
    expect(replayWelfare([ad({ adId: 1, model: null })], 1, halving, FLAT).model).toBeNull();
  });

  it("places a CPM ad by the true examination curve once it replaces the auction's", () => {
    // CPC ad worth 0.1 per examined impression; CPM ad worth 0.08 per examined impression. With a flat
    // curve the auction puts the click ad on top and the CPM ad below (1 x 0.1 + 0.5 x 0.08 = 0.14);
    // with the true curve it still fills both slots: the split is the mechanism's, not the curve's.
    const ads = [
      ad({ adId: 1, bidType: 'CPC', bid: 1 }),
      ad({ adId: 2, bidType: 'CPM', bid: 80, truePClick: 0.08 }),
    ];

    const sut = replayWelfare(ads, 2, halving, FLAT);

    expect(sut.trueValues).toBeCloseTo(0.14, 12);
    expect(sut.trueValuesTrueExamination).toBeCloseTo(0.14, 12);
  });
});

describe(valueAsBid.name, () => {
  it('states the true value in each bid unit', () => {
    const base = { adId: 1, truePClick: 0.02, truePConversion: 0.25, valuePerConversion: 40 };
    expect(valueAsBid(ad({ ...base, bidType: 'CPA' }))).toBe(40);
    expect(valueAsBid(ad({ ...base, bidType: 'CPC' }))).toBe(10);
    expect(valueAsBid(ad({ ...base, bidType: 'CPM' }))).toBeCloseTo(200, 9);
  });
});
