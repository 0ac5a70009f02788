import { describe, expect, it } from '@jest/globals';
import {
  DEMO_MARKETPLACE,
  adAt,
  campaignAt,
  campaignEconomicsAt,
  campaignIndexOfAd,
  groundTruth,
  userAt,
} from '@adfunnel/simulator';
import { MarketplaceOracle } from './marketplace-oracle.js';
import { OracleMetricsAccumulator } from './oracle-metrics.js';

const small = { ...DEMO_MARKETPLACE, advertisers: 12, ads: 360, users: 40 };

describe(MarketplaceOracle.name, () => {
  const sut = MarketplaceOracle.build(small);
  const user = userAt(small, 5);
  const ctx = { surface: 'home_feed' as const, device: user.device, country: user.country };

  it("gives each ad's dominant true topic, its catalog category, and the ads of each topic", () => {
    let listed = 0;
    for (let topic = 0; topic < 16; topic++) {
      for (const adId of sut.adsOfTopic(topic)) expect(adAt(small, adId - 1).categoryIndex).toBe(topic);
      listed += sut.adsOfTopic(topic).length;
    }
    expect(listed).toBe(small.ads);
    expect(sut.topicOfAd(7)).toBe(adAt(small, 6).categoryIndex);
    expect(() => sut.adsOfTopic(16)).toThrow(new RangeError('topic 16 outside 0..15'));
  });

  it('admits exactly the ads of active campaigns whose targeting matches, as retrieval filters', () => {
    const rows = new Set(sut.eligibleRows(ctx.country, ctx.device));
    for (let i = 0; i < small.ads; i++) {
      const c = campaignAt(small, campaignIndexOfAd(small, i));
      const ok =
        c.status === 'active' &&
        (c.targetCountries.length === 0 || c.targetCountries.includes(ctx.country)) &&
        (c.targetDevices.length === 0 || (c.targetDevices as string[]).includes(ctx.device));
      expect(rows.has(i)).toBe(ok);
    }
  });

  it('values an examined impression at pClick x pConversion x value per conversion', () => {
    const ad = adAt(small, 17);
    const value = campaignEconomicsAt(small, ad.campaignId - 1).valuePerConversion;
    expect(sut.expectedValue(user, 18, ctx)).toBeCloseTo(
      groundTruth.pClickExamined(user, ad, ctx) * groundTruth.pConversion(user, ad) * value,
      12,
    );
  });

  it('ranks eligible ads by true value, best first, and allocates one ad per advertiser', () => {
    const best = sut.bestByValue(user, ctx, 20);
    expect(best.adIds).toHaveLength(20);
    for (let i = 1; i < 20; i++) expect(best.scores[i]).toBeLessThanOrEqual(best.scores[i - 1]);
    for (const id of best.adIds) expect(sut.isEligible(id, ctx.country, ctx.device)).toBe(true);
    const allocation = sut.bestEligibleAllocation(user, ctx, 3);
    expect(allocation.adIds[0]).toBe(best.adIds[0]);
    expect(new Set(allocation.adIds.map((id) => sut.campaignOfAd(id).advertiserId)).size).toBe(3);
  });

  it('scores a funnel that served the oracle allocation at full welfare efficiency and perfect recall', () => {
    const metrics = new OracleMetricsAccumulator(sut);
    const allocation = sut.bestEligibleAllocation(user, ctx, 3);
    const retrieved = sut.bestByValue(user, ctx, 50).adIds;
    metrics.observe({
      user,
      ctx,
      slots: 3,
      retrievalLimit: 50,
      retrieved,
      pCtr: retrieved.map((id) => sut.pClickExamined(user, id, ctx)),
      shown: allocation.adIds.map((adId, slot) => ({ slot, adId })),
      drawSeed: 1,
    });
    const r = metrics.result();
    expect(r.sampledRequests).toBe(1);
    expect(r.retrieval).toMatchObject({ k: 50, recall: 1, recallAt10: 1 });
    expect(r.welfare!.efficiency).toBeCloseTo(1, 12);
    expect(r.welfare!.retrievalEfficiency).toBeCloseTo(1, 12);
    expect(r.ranking!.logloss).toBeCloseTo(r.ranking!.bayesLogloss, 6);
  });
});
