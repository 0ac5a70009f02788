import { describe, expect, it } from '@jest/globals';
import { AdCount, CampaignCount, TotalCount } from './delivery-counts.js';
import { DeliveryTally } from './delivery-tally.js';

describe(DeliveryTally.name, () => {
  it('drains what was counted per campaign, ad and in total, then starts again from zero', () => {
    const sut = new DeliveryTally();
    sut.totals[TotalCount.retrieval_requests] += 2;
    sut.campaign(7).counts[CampaignCount.eligible] += 2;
    sut.ad(70, 7).counts[AdCount.retrieved]++;
    sut.ad(71, 8).counts[AdCount.won]++;

    const drained = sut.drain();
    expect([...drained.totals]).toEqual([2, 0]);
    const byId = new Map(drained.campaigns.map((c) => [c.campaignId, c]));
    expect(byId.get(7)?.counts?.[CampaignCount.eligible]).toBe(2);
    expect(byId.get(7)?.ads.map((a) => [a.adId, a.counts[AdCount.retrieved]])).toEqual([[70, 1]]);
    // Campaign 8 counted only through its ad.
    expect(byId.get(8)?.counts).toBeNull();
    expect(byId.get(8)?.ads[0].counts[AdCount.won]).toBe(1);

    const again = sut.drain();
    expect(again.campaigns).toEqual([]);
    expect([...again.totals]).toEqual([0, 0]);
  });

  it('keeps one row per id, so counting allocates nothing once the rows exist', () => {
    const sut = new DeliveryTally();
    expect(sut.campaign(3)).toBe(sut.campaign(3));
    const ad = sut.ad(30, 3);
    expect(sut.ad(30, 3)).toBe(ad);
    expect(ad.campaign).toBe(sut.campaign(3));
    expect(sut.knownAd(30)).toBe(ad);
    expect(sut.knownAd(31)).toBeUndefined();
    // An ad moved to another campaign counts there from then on.
    expect(sut.ad(30, 4).campaign).toBe(sut.campaign(4));
  });

  it('gives each request a fresh stamp, to count a campaign once per request', () => {
    const sut = new DeliveryTally();
    const first = sut.nextRequest();
    expect(sut.nextRequest()).toBe(first + 1);
  });

  it('runs its drain hooks first, so deferred counts go out with the drain', () => {
    const sut = new DeliveryTally();
    sut.onDrain(() => {
      sut.campaign(5).counts[CampaignCount.eligible] += 10;
    });
    expect(sut.drain().campaigns[0].counts?.[CampaignCount.eligible]).toBe(10);
  });

  it('takes a failed drain back, to send it with the next', () => {
    const sut = new DeliveryTally();
    sut.campaign(9).counts[CampaignCount.outbid] += 3;
    sut.ad(90, 9).counts[AdCount.outbid] += 3;
    sut.totals[TotalCount.auctions] += 3;
    const failed = sut.drain();
    sut.campaign(9).counts[CampaignCount.outbid] += 1;
    sut.restore(failed);
    const next = sut.drain();
    expect(next.campaigns[0].counts?.[CampaignCount.outbid]).toBe(4);
    expect(next.campaigns[0].ads[0].counts[AdCount.outbid]).toBe(3);
    expect(next.totals[TotalCount.auctions]).toBe(3);
  });
});
