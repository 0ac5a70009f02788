import { describe, expect, it } from '@jest/globals';
import {
  AD_COUNTS,
  CAMPAIGN_COUNTS,
  type CampaignFacts,
  type CampaignWindowCounts,
  type MinuteHashes,
  TOTAL_COUNTS,
  comparedSince,
  minuteOf,
  sumWindow,
  windowSince,
  zeroCounts,
} from '@adfunnel/delivery-diagnostics';
import {
  TOP_ADS,
  campaignAnswer,
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

/** 14:02:30 UTC on 2026-12-03: half of the current minute gone. */
const NOW = Date.parse('2026-12-03T14:02:30Z');
const CREATED = Date.parse('2026-12-03T14:00:45Z');

const facts: CampaignFacts = {
  campaignId: 12,
  status: 'active',
  archivedAt: null,
  statusChangedAt: null,
  pacing: 'even',
  frequencyCap: null,
  targetCountries: [],
  targetDevices: [],
  ads: { total: 1, active: 1 },
  today: {
    billingDay: '2026-12-03',
    timezone: 'UTC',
    budgetMicros: 50_000_000,
    spendMicros: 0,
    lastChargeAt: null,
  },
};

/**
 * The minutes from 13:03 to 14:02 as the flushers wrote them, for a campaign without targeting
 * created at 14:00:45: one request a second all along, every one since its creation eligible,
 * retrieved and won by it (the current minute up to 14:02:30).
 */
function hourOfRequests(fromMinute: number): MinuteHashes[] {
  const created = minuteOf(CREATED);
  const minutes: MinuteHashes[] = [];
  for (let minute = fromMinute; minute <= minuteOf(NOW); minute++) {
    const requests = minute === minuteOf(NOW) ? 30 : 60;
    const own = minute < created ? 0 : minute === created ? 15 : requests;
    const counted = String(own);
    minutes.push({
      campaign:
        own === 0
          ? {}
          : { eligible: counted, retrieved: counted, ranked: counted, won: counted, served: counted },
      totals: { retrieval_requests: String(requests), auctions: String(requests) },
    });
  }
  return minutes;
}

describe(windowSince.name, () => {
  it('is the last minutes asked for when the campaign is older than them', () => {
    expect(windowSince(NOW, 60, CREATED - 3_600_000)).toEqual({
      fromMinute: minuteOf(NOW) - 59,
      toMinute: minuteOf(NOW),
    });
  });

  it("starts at the campaign's creation within the window, with the share of that minute after it", () => {
    expect(windowSince(NOW, 60, CREATED)).toEqual({
      fromMinute: minuteOf(CREATED),
      toMinute: minuteOf(NOW),
      since: { at: CREATED, share: 0.25 },
    });
    // Created in the current minute: the share of the part of it gone (10 of the 30 s so far).
    const recent = Date.parse('2026-12-03T14:02:20Z');
    expect(windowSince(NOW, 60, recent)).toEqual({
      fromMinute: minuteOf(NOW),
      toMinute: minuteOf(NOW),
      since: { at: recent, share: 1 / 3 },
    });
  });
});

describe(campaignAnswer.name, () => {
  it('compares a campaign created 2 minutes ago only with the requests since then, and says so', () => {
    const window = windowSince(NOW, 60, CREATED);
    const counts = sumWindow(window, hourOfRequests(window.fromMinute));
    const sut = campaignAnswer({ id: 12, advertiserId: 3 }, facts, counts, window, 60);

    expect(sut.window).toEqual({
      minutes: 3,
      requestedMinutes: 60,
      from: '2026-12-03T14:00:45.000Z',
      to: '2026-12-03T14:03:00.000Z',
      since: 'campaign_created',
    });
    // 15 of 14:00's 60 requests (those after 14:00:45), 14:01's 60 and 14:02's 30 so far.
    expect(sut.stages.requests).toBe(105);
    expect(sut.stages.eligible).toBe(105);
    expect(sut.topReasons).toEqual([]);
    expect(sut.diagnosis).toEqual([
      'counted since campaign 12 was created at 14:00 (UTC), not over the hour asked for: the requests before it existed are not compared with it',
      'it served 105 ads since it was created: 0 impressions, 0 clicks, 0 conversions',
    ]);
    expect(sut.serving).toBe(true);
  });

  it('compares a campaign whose first ad came 2 minutes ago only with the requests since that ad', () => {
    // Created long before, its first ad at 14:00:45: the same hour of requests as one created then.
    const start = comparedSince(CREATED - 3_600_000, CREATED);
    const window = windowSince(NOW, 60, start.at);
    const counts = sumWindow(window, hourOfRequests(window.fromMinute));
    const sut = campaignAnswer({ id: 12, advertiserId: 3 }, facts, counts, window, 60, start.by);

    expect(sut.window).toMatchObject({
      minutes: 3,
      from: '2026-12-03T14:00:45.000Z',
      since: 'first_ad_created',
    });
    expect(sut.stages.requests).toBe(105);
    expect(sut.topReasons).toEqual([]);
    expect(sut.diagnosis[0]).toMatch(
      /^counted since the first ad of campaign 12 was created at 14:00 \(UTC\)/,
    );
  });

  it('never estimates fewer requests in the creation minute than the campaign itself counted', () => {
    // Created 1 s ago, 40 s into the minute now running: the even-spread share is 1/40 of its 4
    // requests (0.1), but the campaign was eligible in 3 and ranked in 2, all made after it existed.
    const now = Date.parse('2026-12-03T14:02:40Z');
    const created = Date.parse('2026-12-03T14:02:39Z');
    const window = windowSince(now, 60, created);
    const minute: MinuteHashes = {
      campaign: { eligible: '3', ranked: '2' },
      totals: { retrieval_requests: '4', auctions: '4' },
    };
    expect(window.since?.share).toBeCloseTo(1 / 40);
    expect(sumWindow(window, [minute]).totals).toEqual({ retrieval_requests: 3, auctions: 2 });
    // Without a cut the minute counts whole.
    expect(sumWindow({ fromMinute: window.fromMinute, toMinute: window.toMinute }, [minute]).totals).toEqual({
      retrieval_requests: 4,
      auctions: 4,
    });
  });

  it('would read the hour before the campaign existed as missed by its targeting without the cut', () => {
    const window = { fromMinute: minuteOf(NOW) - 59, toMinute: minuteOf(NOW) };
    const sut = campaignAnswer(
      { id: 12, advertiserId: 3 },
      facts,
      sumWindow(window, hourOfRequests(window.fromMinute)),
      window,
      60,
    );
    expect(sut.window.since).toBeNull();
    expect(sut.stages.requests).toBe(3570);
    expect(sut.topReasons[0]).toEqual({ reason: 'targeting', count: 3465, share: 0.971 });
  });
  it("says which diversity cap left it out of how many auctions, the advertiser's or the category's", () => {
    const window = windowSince(NOW, 60, CREATED - 3_600_000);
    const counts: CampaignWindowCounts = {
      campaign: {
        ...zeroCounts(CAMPAIGN_COUNTS),
        eligible: 100,
        retrieved: 100,
        ranked: 100,
        advertiser_capped: 50,
        category_capped: 30,
        won: 20,
        served: 20,
      },
      ads: new Map(),
      totals: { retrieval_requests: 100, auctions: 100 },
    };
    const sut = campaignAnswer({ id: 12, advertiserId: 3 }, facts, counts, window, 60);
    expect(sut.diagnosis).toContain(
      "lost 80 of 100 auctions: left out for better ads of its advertiser's other campaigns by the limit on one advertiser's ads per answer (AUCTION_MAX_ADS_PER_ADVERTISER) in 50, left out for better ads of the same category by the limit on one category's ads per answer (AUCTION_MAX_ADS_PER_CATEGORY) in 30",
    );
    expect(sut.stages.auction).toMatchObject({ advertiserCapped: 50, categoryCapped: 30, won: 20 });
    expect(sut.topReasons).toEqual([
      { reason: 'advertiser_capped', count: 50, share: 0.5 },
      { reason: 'category_capped', count: 30, share: 0.3 },
    ]);
  });
});
