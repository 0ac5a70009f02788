import { beforeAll, describe, expect, it } from '@jest/globals';
import { AdIndex } from '@adfunnel/ad-index';
import type { CatalogAd } from '@adfunnel/catalog';
import { CAMPAIGN_COUNTS, DeliveryTally, type DrainedCampaign } from '@adfunnel/delivery-diagnostics';
import { catalogAds } from '@adfunnel/testing';
import type { BudgetExclusions } from '../budget/exhausted-campaigns.service.js';
import { CandidateCatalog } from '../sources/candidate-catalog.js';
import { RetrievalDelivery } from './retrieval-delivery.js';

const NONE: ReadonlySet<number> = new Set();

function targets(ad: CatalogAd, country: string, device: string): boolean {
  const c = ad.campaign;
  return (
    (c.targetCountries.length === 0 || c.targetCountries.includes(country)) &&
    (c.targetDevices.length === 0 || c.targetDevices.includes(device))
  );
}

function countOf(campaign: DrainedCampaign | undefined, name: (typeof CAMPAIGN_COUNTS)[number]): number {
  return campaign?.counts?.[CAMPAIGN_COUNTS.indexOf(name)] ?? 0;
}

describe(RetrievalDelivery.name, () => {
  const ads = catalogAds();
  let catalog: CandidateCatalog;
  const country = 'US';
  const device = 'mobile';
  /** Active campaigns with an active ad this request's targeting admits. */
  let eligible: number[];
  /** Campaigns that match the targeting but are paused, ended or have no active ad. */
  let inactive: number[];

  beforeAll(() => {
    catalog = CandidateCatalog.build(AdIndex.build(ads, { catalogVersion: 'cat-1', exactThreshold: 0 }), ads);
    const servable = new Set(
      ads
        .filter(
          (ad) => ad.status === 'active' && ad.campaign.status === 'active' && targets(ad, country, device),
        )
        .map((ad) => ad.campaign.id),
    );
    eligible = [...servable].sort((a, b) => a - b);
    inactive = [
      ...new Set(
        ads
          .filter((ad) => targets(ad, country, device) && !servable.has(ad.campaign.id))
          .map((ad) => ad.campaign.id),
      ),
    ].sort((a, b) => a - b);
  });

  it('knows which campaigns a (country, device) could be served and which it matched while inactive', () => {
    const sut = catalog.campaignsFor(country, device);
    expect([...sut.eligible].sort((a, b) => a - b)).toEqual(eligible);
    expect([...sut.inactive].sort((a, b) => a - b)).toEqual(inactive);
    expect(inactive.length).toBeGreaterThan(0);
    // Made once per eligible set.
    expect(catalog.campaignsFor(country, device)).toBe(sut);
  });

  it('counts eligible, budget-excluded, capped and retrieved campaigns once per request', () => {
    const tally = new DeliveryTally();
    const sut = new RetrievalDelivery(tally);
    const [exhausted, committed, capped, other] = eligible;
    const budget: BudgetExclusions = {
      excluded: new Set([exhausted, committed]),
      exhausted: new Set([exhausted]),
    };
    const userExcluded = new Set([exhausted, committed, capped]);
    const otherAds = ads
      .filter((ad) => ad.campaign.id === other && ad.status === 'active')
      .map((ad) => ad.id);
    expect(otherAds.length).toBeGreaterThan(0);
    // Two requests: the first by a user capped for `capped`, both retrieving `other`'s ads (twice over).
    sut.counted(catalog, country, device, budget, userExcluded, [...otherAds, ...otherAds]);
    sut.counted(catalog, country, device, budget, budget.excluded, otherAds);

    const drained = tally.drain();
    const of = (id: number) => drained.campaigns.find((c) => c.campaignId === id);
    expect(drained.totals[0]).toBe(2);
    expect(countOf(of(exhausted), 'eligible')).toBe(2);
    expect(countOf(of(exhausted), 'budget_exhausted')).toBe(2);
    expect(countOf(of(committed), 'budget_committed')).toBe(2);
    expect(countOf(of(committed), 'frequency_capped')).toBe(0);
    expect(countOf(of(capped), 'frequency_capped')).toBe(1);
    expect(countOf(of(other), 'retrieved')).toBe(2);
    expect(of(other)?.ads.find((ad) => ad.adId === otherAds[0])?.counts[0]).toBe(3);
    expect(countOf(of(inactive[0]), 'targeted_inactive')).toBe(2);
    expect(countOf(of(inactive[0]), 'eligible')).toBe(0);
    // Why each was inactive, by the status the catalog held: paused, ended, or neither (no active ad).
    const statuses = new Set<string>();
    for (const id of inactive) {
      const status = ads.find((ad) => ad.campaign.id === id)!.campaign.status;
      statuses.add(status);
      expect(countOf(of(id), 'targeted_paused')).toBe(status === 'paused' ? 2 : 0);
      expect(countOf(of(id), 'targeted_ended')).toBe(status === 'ended' ? 2 : 0);
    }
    expect(statuses).toContain('paused');
  });

  it('attributes requests to the budget sets they were served with when the sets change', () => {
    const tally = new DeliveryTally();
    const sut = new RetrievalDelivery(tally);
    const [campaign] = eligible;
    const before: BudgetExclusions = { excluded: NONE, exhausted: NONE };
    const after: BudgetExclusions = { excluded: new Set([campaign]), exhausted: new Set([campaign]) };
    sut.counted(catalog, country, device, before, before.excluded, []);
    sut.counted(catalog, country, device, after, after.excluded, []);
    sut.counted(catalog, country, device, after, after.excluded, []);
    const row = tally.drain().campaigns.find((c) => c.campaignId === campaign);
    expect(countOf(row, 'eligible')).toBe(3);
    expect(countOf(row, 'budget_exhausted')).toBe(2);
    // The next drain starts from zero.
    expect(tally.drain().campaigns).toEqual([]);
  });
});
