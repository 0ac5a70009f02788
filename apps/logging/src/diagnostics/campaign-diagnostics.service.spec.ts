import { describe, expect, it } from '@jest/globals';
import {
  AD_COUNTS,
  CAMPAIGN_COUNTS,
  type CampaignWindowCounts,
  TOTAL_COUNTS,
  zeroCounts,
} from '@adfunnel/delivery-diagnostics';
import {
  TOP_ADS,
  parseCampaignId,
  parseWindowMinutes,
  topAds,
  withEvents,
} from './campaign-diagnostics.service.js';

describe(parseWindowMinutes.name, () => {
  it('takes a whole number of minutes within the retention, and 60 when absent', () => {
    expect(parseWindowMinutes({}, 1440)).toBe(60);
    expect(parseWindowMinutes(undefined, 30)).toBe(30);
    expect(parseWindowMinutes({ minutes: '15' }, 60)).toBe(15);
    expect(parseWindowMinutes({ minutes: '1440' }, 1440)).toBe(1440);
  });

  it.each([['0'], ['61'], ['1.5'], ['-5'], ['15m'], [''], [['5', '6']]])(
    'refuses minutes=%j, naming the bounds',
    (minutes) => {
      expect(() => parseWindowMinutes({ minutes }, 60)).toThrow(
        'minutes must be a whole number from 1 to 60 (the counts are kept 60 minutes, DELIVERY_RETENTION_MINUTES)',
      );
    },
  );

  it('names a query parameter it does not know', () => {
    expect(() => parseWindowMinutes({ window: '2h', minutes: '5' }, 60)).toThrow(
      'unknown query parameter "window": the only one is minutes',
    );
  });
});

describe(parseCampaignId.name, () => {
  it('takes a positive integer and refuses anything else', () => {
    expect(parseCampaignId('42')).toBe(42);
    for (const bad of ['0', '-1', '4.2', 'abc', '042', '99999999999999999']) {
      expect(() => parseCampaignId(bad)).toThrow(`campaignId must be a positive integer; got "${bad}"`);
    }
  });
});

describe(withEvents.name, () => {
  const counts: CampaignWindowCounts = {
    campaign: { ...zeroCounts(CAMPAIGN_COUNTS), served: 5, impressions: 99 },
    ads: new Map([[7, { ...zeroCounts(AD_COUNTS), served: 5 }]]),
    totals: zeroCounts(TOTAL_COUNTS),
  };

  it("puts the event store's counts in place of any counted ones, per campaign and ad", () => {
    const sut = withEvents(counts, [
      { adId: 7, type: 'impression', n: '4' },
      { adId: 7, type: 'click', n: 1 },
      { adId: 8, type: 'impression', n: '2' },
      { adId: 8, type: 'hide', n: '1' },
      { adId: 8, type: 'conversion', n: '1' },
    ]);
    expect(sut.campaign).toMatchObject({ served: 5, impressions: 6, clicks: 1, conversions: 1, hides: 1 });
    expect(sut.ads.get(7)).toMatchObject({ served: 5, impressions: 4, clicks: 1 });
    expect(sut.ads.get(8)).toMatchObject({ served: 0, impressions: 2, conversions: 1 });
    // The reader's counts are left as they were.
    expect(counts.ads.get(7)?.impressions).toBe(0);
  });
});

describe(topAds.name, () => {
  it(`lists the ${TOP_ADS} most served ads, then the most retrieved`, () => {
    const ads = new Map(
      Array.from({ length: 15 }, (_, i) => [
        i + 1,
        { ...zeroCounts(AD_COUNTS), served: i % 3, retrieved: i },
      ]),
    );
    const sut = topAds(ads);
    expect(sut).toHaveLength(TOP_ADS);
    expect(sut.slice(0, 3).map((ad) => ad.adId)).toEqual([15, 12, 9]);
    expect(sut[0]).toMatchObject({ adId: 15, served: 2, retrieved: 14 });
  });
});
