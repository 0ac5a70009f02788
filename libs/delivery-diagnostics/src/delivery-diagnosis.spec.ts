import { describe, expect, it } from '@jest/globals';
import {
  AD_COUNTS,
  CAMPAIGN_COUNTS,
  type CampaignCounts,
  TOTAL_COUNTS,
  zeroCounts,
} from './delivery-counts.js';
import { type CampaignFacts, comparedSince, diagnose } from './delivery-diagnosis.js';
import type { CampaignWindowCounts } from './delivery-reader.js';

/** 14:02 UTC on 2026-12-03. */
const AT_1402 = Date.parse('2026-12-03T14:02:30Z');

function factsFactory(overrides: Partial<CampaignFacts> = {}): CampaignFacts {
  return {
    campaignId: 12,
    status: 'active',
    archivedAt: null,
    statusChangedAt: null,
    pacing: 'even',
    frequencyCap: { max: 3, windowHours: 24 },
    targetCountries: [],
    targetDevices: [],
    ads: { total: 4, active: 4 },
    today: {
      billingDay: '2026-12-03',
      timezone: 'UTC',
      budgetMicros: 50_000_000,
      spendMicros: 10_000_000,
      lastChargeAt: AT_1402,
    },
    ...overrides,
  };
}

function countsFactory(campaign: Partial<CampaignCounts>, requests: number): CampaignWindowCounts {
  return {
    campaign: { ...zeroCounts(CAMPAIGN_COUNTS), ...campaign },
    ads: new Map([[1, zeroCounts(AD_COUNTS)]]),
    totals: { ...zeroCounts(TOTAL_COUNTS), retrieval_requests: requests, auctions: requests },
  };
}

describe(diagnose.name, () => {
  it('says a paused campaign is paused, and puts the requests its targeting matched down to it', () => {
    const sut = diagnose(
      factsFactory({ status: 'paused' }),
      countsFactory({ targeted_inactive: 1000 }, 1000),
      15,
    );
    expect(sut.diagnosis[0]).toBe(
      'campaign 12 is paused by the advertiser: it takes part in no auction until it is set active again: its targeting matched 1000 of the 1000 ad requests in the last 15 minutes',
    );
    expect(sut.diagnosis).toContain('it served no ad in the last 15 minutes');
    expect(sut.serving).toBe(false);
    expect(sut.topReasons).toEqual([{ reason: 'paused', count: 1000, share: 1 }]);
  });

  it('says when the advertiser paused it, in the advertiser’s time zone, once the catalog kept the time', () => {
    const facts = factsFactory({ status: 'paused', statusChangedAt: AT_1402 });
    const sut = diagnose(facts, countsFactory({ targeted_inactive: 40, targeted_paused: 40 }, 100), 15);
    expect(sut.diagnosis[0]).toBe(
      'campaign 12 was paused by the advertiser at 14:02 on 2026-12-03 (UTC): it takes part in no auction until it is set active again: its targeting matched 40 of the 100 ad requests in the last 15 minutes while it was paused',
    );
    const tokyo = diagnose(
      { ...facts, today: { ...facts.today, billingDay: '2026-12-03', timezone: 'Asia/Tokyo' } },
      countsFactory({}, 0),
      15,
    );
    expect(tokyo.diagnosis[0]).toBe(
      'campaign 12 was paused by the advertiser at 23:02 on 2026-12-03 (Asia/Tokyo): it takes part in no auction until it is set active again',
    );
  });

  it('puts the requests it missed while paused down to the pause, by the counts of the time', () => {
    const sut = diagnose(
      factsFactory({ status: 'paused' }),
      countsFactory({ targeted_inactive: 600, targeted_paused: 600, eligible: 400, served: 30 }, 1000),
      15,
    );
    expect(sut.diagnosis[0]).toBe(
      'campaign 12 is paused by the advertiser: it takes part in no auction until it is set active again: its targeting matched 600 of the 1000 ad requests in the last 15 minutes while it was paused',
    );
    expect(sut.topReasons[0]).toEqual({ reason: 'paused', count: 600, share: 0.6 });
    expect(sut.topReasons.map((r) => r.reason)).not.toContain('targeting');
    expect(sut.topReasons.map((r) => r.reason)).not.toContain('no_active_ads');
  });

  it('says a campaign active now was paused for part of the window, not that it had no active ad', () => {
    const sut = diagnose(
      factsFactory(),
      countsFactory({ targeted_inactive: 300, targeted_paused: 300, eligible: 700, retrieved: 700 }, 1000),
      15,
    );
    expect(sut.diagnosis).toContain(
      'it was paused for part of the window: its targeting matched 300 of the 1000 ad requests in the last 15 minutes while it was paused',
    );
    expect(sut.topReasons).toContainEqual({ reason: 'paused', count: 300, share: 0.3 });
    expect(sut.topReasons.map((r) => r.reason)).not.toContain('no_active_ads');
  });

  it('says when an archived campaign was archived, and puts the requests it missed down to that', () => {
    const sut = diagnose(
      factsFactory({ status: 'archived', archivedAt: AT_1402 }),
      countsFactory({ targeted_inactive: 800, targeted_ended: 800 }, 1000),
      15,
    );
    expect(sut.diagnosis[0]).toBe(
      'campaign 12 was archived by the advertiser at 14:02 on 2026-12-03 (UTC): it takes part in no auction and cannot be set active again: its targeting matched 800 of the 1000 ad requests in the last 15 minutes while it was archived',
    );
    expect(sut.topReasons[0]).toEqual({ reason: 'archived', count: 800, share: 0.8 });
    expect(sut.serving).toBe(false);
  });

  it('does not call the requests of a campaign without ads misses of its targeting', () => {
    const sut = diagnose(factsFactory({ ads: { total: 0, active: 0 } }), countsFactory({}, 500), 15);
    expect(sut.diagnosis).toContain('campaign 12 has no ads');
    expect(sut.diagnosis).toContain(
      'retrieval compares a campaign with ad requests through its ads: none of the 500 ad requests in the last 15 minutes was compared with it',
    );
    expect(sut.diagnosis.join(' ')).not.toMatch(/targeting/);
    expect(sut.topReasons).toEqual([{ reason: 'no_active_ads', count: 500, share: 1 }]);
  });

  it("says when an exhausted campaign spent today's budget, and how many requests that cost it", () => {
    const facts = factsFactory({
      today: { ...factsFactory().today, spendMicros: 50_000_000 },
    });
    const sut = diagnose(
      facts,
      countsFactory({ eligible: 1000, budget_exhausted: 800, retrieved: 200 }, 1000),
      15,
    );
    expect(sut.diagnosis).toContain(
      'daily budget spent: $50.00 of $50.00 (billing day 2026-12-03, UTC), the last charge at 14:02: left out of 800 of the 1000 requests it was eligible for',
    );
    expect(sut.topReasons[0]).toEqual({ reason: 'budget_exhausted', count: 800, share: 0.8 });
  });

  it('tells the time of the last charge in the advertiser’s time zone', () => {
    const facts = factsFactory({
      today: {
        ...factsFactory().today,
        timezone: 'America/New_York',
        spendMicros: 49_900_000,
      },
    });
    const sut = diagnose(facts, countsFactory({ eligible: 10, budget_exhausted: 10 }, 10), 15);
    expect(sut.diagnosis).toContain(
      'daily budget spent: $49.90 of $50.00 (99.8%) (billing day 2026-12-03, America/New_York), the last charge at 09:02, less than one more ad costs: left out of 10 of the 10 requests it was eligible for',
    );
  });

  it('gives the share of requests its frequency cap kept it out of', () => {
    const sut = diagnose(
      factsFactory(),
      countsFactory({ eligible: 1000, frequency_capped: 800, retrieved: 200, won: 200, served: 200 }, 1000),
      15,
    );
    expect(sut.diagnosis).toContain(
      'its frequency cap (3 serves per user per 24 h) reached: the user had seen it enough in 800 of the 1000 requests it was eligible for within budget (80%)',
    );
    expect(sut.topReasons[0].reason).toBe('frequency_capped');
    expect(sut.serving).toBe(true);
  });

  it('does not call a campaign paused after it served in the window serving', () => {
    const counts = countsFactory({ eligible: 10, retrieved: 10, won: 4, served: 4 }, 10);

    expect(diagnose(factsFactory(), counts, 15).serving).toBe(true);
    const paused = diagnose(factsFactory({ status: 'paused' }), counts, 15);
    expect(paused.serving).toBe(false);
    expect(paused.diagnosis[0]).toMatch(/^campaign \d+ is paused by the advertiser/);
  });

  it('says how often it was outbid, and by how much', () => {
    const sut = diagnose(
      factsFactory(),
      countsFactory(
        {
          eligible: 1000,
          retrieved: 1000,
          ranked: 1000,
          outbid: 900,
          below_reserve: 30,
          won: 70,
          served: 70,
          impressions: 65,
          clicks: 3,
          // 900 auctions at an average eCPM of $0.60 against $5.00.
          outbid_ecpm_micros: 900 * 600_000,
          outbid_winner_ecpm_micros: 900 * 5_000_000,
        },
        1000,
      ),
      15,
    );
    expect(sut.diagnosis).toContain(
      "outbid in 900 of 1000 auctions: its best ad's eCPM averaged $0.60 against $5.00 for the lowest winning ad; also below the reserve in 30",
    );
    expect(sut.diagnosis.at(-1)).toBe(
      'it served 70 ads in the last 15 minutes: 65 impressions, 3 clicks, 0 conversions',
    );
    expect(sut.topReasons.map((r) => r.reason)).toEqual(['outbid', 'below_reserve']);
  });

  it('names the targeting that matched few requests', () => {
    const sut = diagnose(
      factsFactory({ targetCountries: ['US', 'CA'], targetDevices: ['mobile'] }),
      countsFactory({ eligible: 120, retrieved: 120, won: 120, served: 120 }, 120),
      60,
    );
    expect(sut.diagnosis.some((s) => s.startsWith('its targeting'))).toBe(false);
    const narrow = diagnose(
      factsFactory({ targetCountries: ['US', 'CA'], targetDevices: ['mobile'] }),
      countsFactory({ eligible: 120, retrieved: 120 }, 1000),
      60,
    );
    expect(narrow.diagnosis).toContain(
      'its targeting (countries US, CA; devices mobile) matched 120 of the 1000 ad requests in the last hour (12%)',
    );
    expect(narrow.topReasons[0]).toEqual({ reason: 'targeting', count: 880, share: 0.88 });
  });

  it('says when no request matched its targeting at all', () => {
    const sut = diagnose(factsFactory({ targetCountries: ['IS'] }), countsFactory({}, 50), 60);
    expect(sut.diagnosis).toContain(
      'no ad request matched its targeting (countries IS) in the last hour (50 requests)',
    );
    expect(sut.topReasons).toEqual([{ reason: 'targeting', count: 50, share: 1 }]);
  });

  it('counts a campaign whose first ad came later only since that ad, not the requests before it as targeting misses', () => {
    // Created an hour ago with no ad; its first ad at 14:02, 300 of the window's 1000 requests since.
    const since = comparedSince(AT_1402 - 3_600_000, AT_1402);
    expect(since).toEqual({ at: AT_1402, by: 'first_ad_created' });
    const sut = diagnose(
      factsFactory({ targetCountries: ['IS'] }),
      countsFactory({ eligible: 300, retrieved: 300, won: 300, served: 300 }, 300),
      60,
      since,
    );
    expect(sut.diagnosis).toEqual([
      'counted since the first ad of campaign 12 was created at 14:02 (UTC), not over the hour asked for: retrieval compares a campaign with ad requests through its ads, so the requests before it had one are not compared with it',
      'it served 300 ads since its first ad was created: 0 impressions, 0 clicks, 0 conversions',
    ]);
    expect(sut.topReasons).toEqual([]);
  });

  it('starts a campaign’s counts at its creation unless its first ad came later', () => {
    expect(comparedSince(AT_1402, AT_1402 + 1)).toEqual({ at: AT_1402 + 1, by: 'first_ad_created' });
    // Ads created with the campaign (a seed) or before it was (re)created: its own creation.
    expect(comparedSince(AT_1402, AT_1402)).toEqual({ at: AT_1402, by: 'campaign_created' });
    expect(comparedSince(AT_1402, AT_1402 - 60_000)).toEqual({ at: AT_1402, by: 'campaign_created' });
    // No ad yet: nothing later to wait for (its requests are put down to no_active_ads).
    expect(comparedSince(AT_1402, null)).toEqual({ at: AT_1402, by: 'campaign_created' });
  });

  it('says so when no request reached retrieval in the window', () => {
    const sut = diagnose(factsFactory(), countsFactory({}, 0), 15);
    expect(sut.diagnosis).toEqual([
      'no ad request reached retrieval in the last 15 minutes: there is no serving to explain',
    ]);
  });

  it('counts pacing and a budget that other serves had reserved', () => {
    const sut = diagnose(
      factsFactory(),
      countsFactory(
        { eligible: 100, retrieved: 100, paced: 60, budget_committed: 0, budget_refused: 5, won: 35 },
        100,
      ),
      15,
    );
    expect(sut.diagnosis).toContain('pacing (even) held it out of 60 of the 100 auctions it reached');
    expect(sut.diagnosis).toContain(
      'lost 5 of 40 auctions: won but its budget could not hold the ad (taken by other serves) in 5',
    );
  });
});
