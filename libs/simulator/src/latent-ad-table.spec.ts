import { describe, expect, it } from '@jest/globals';
import { groundTruth } from './ground-truth.js';
import { LatentAdTable } from './latent-ad-table.js';
import { DEMO_MARKETPLACE, adAt, campaignIndexOfAd, userAt } from './marketplace.js';

const small = { ...DEMO_MARKETPLACE, advertisers: 20, ads: 800, users: 50 };

describe(LatentAdTable.name, () => {
  const sut = LatentAdTable.build(small);

  it('gives the same probabilities as groundTruth on SimAd objects, to the last bit', () => {
    for (let u = 0; u < 10; u++) {
      const user = userAt(small, u);
      for (let i = 0; i < small.ads; i += 13) {
        const ad = adAt(small, i);
        const ctx = { surface: 'search' as const, device: user.device };
        expect(sut.pClickExamined(user, i, ctx)).toBe(groundTruth.pClickExamined(user, ad, ctx));
        expect(sut.pConversion(user, i)).toBe(groundTruth.pConversion(user, ad));
      }
    }
  });

  it('maps ad ids to rows and rows to campaigns', () => {
    expect(sut.size).toBe(800);
    expect(sut.indexOf(800)).toBe(799);
    expect(sut.campaignIndexOf(799)).toBe(campaignIndexOfAd(small, 799));
    expect(() => sut.indexOf(801)).toThrow(/ad id 801 is not in the simulated marketplace \(1..800\)/);
  });
});
