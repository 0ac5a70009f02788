import { beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { type BudgetRedis, type BudgetStore, reservationMicros } from '@adfunnel/budget';
import type { CatalogAd } from '@adfunnel/catalog';
import { FakeCatalogSnapshots, catalogAds, catalogSnapshot } from '@adfunnel/testing';
import { DEFAULT_PREDICTION_PRIORS } from '@adfunnel/utility';
import { Logger } from '@nestjs/common';
import { RetrievalConfigSchema } from '../config.js';
import { ExhaustedCampaignsService } from './exhausted-campaigns.service.js';

// 20:00 UTC on 1 December is already 2 December in Tokyo.
const NOW = Date.UTC(2026, 11, 1, 20);

/** The small marketplace with odd campaigns run by an advertiser in Tokyo, even ones in UTC. */
function adsFactory(): CatalogAd[] {
  return catalogAds().map((ad) => ({
    ...ad,
    campaign: { ...ad.campaign, timezone: ad.campaign.id % 2 === 1 ? 'Asia/Tokyo' : 'UTC' },
  }));
}

function standingOf(exhausted: number[], committed: number[] = []) {
  return { exhausted: new Set(exhausted), committed: new Set(committed) };
}

describe(ExhaustedCampaignsService.name, () => {
  let ads: CatalogAd[];
  let catalog: FakeCatalogSnapshots;
  let standing: jest.Mock<BudgetStore['standing']>;
  let sut: ExhaustedCampaignsService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    ads = adsFactory();
    catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads));
    standing = jest.fn<BudgetStore['standing']>().mockResolvedValue(standingOf([]));
    const store = { standing } as unknown as BudgetStore;
    const redis = {
      ready: () => Promise.resolve(true),
      explain: (error: Error) => error.message,
    } as unknown as BudgetRedis;
    sut = new ExhaustedCampaignsService(
      catalog.asService(),
      store,
      redis,
      { now: () => NOW },
      RetrievalConfigSchema.parse({}),
    );
  });

  it('asks for each time zone’s billing day, with each active campaign’s budget and one ad at the priors', async () => {
    await sut.refresh(NOW);

    const asked = new Map(standing.mock.calls.map(([day, budgets]) => [day, budgets]));
    expect([...asked.keys()].sort()).toEqual(['2026-12-01', '2026-12-02']);
    const active = new Map<number, CatalogAd['campaign']>();
    for (const ad of ads) if (ad.campaign.status === 'active') active.set(ad.campaign.id, ad.campaign);
    for (const [id, campaign] of active) {
      const day = campaign.timezone === 'Asia/Tokyo' ? '2026-12-02' : '2026-12-01';
      const oneAd = reservationMicros({
        bidType: campaign.bidType,
        price: campaign.bid,
        ...DEFAULT_PREDICTION_PRIORS,
      });
      expect(asked.get(day)?.get(id)).toEqual({
        budgetMicros: Math.round(campaign.dailyBudget * 1e6),
        oneAdMicros: oneAd,
      });
      if (campaign.bidType === 'CPM') expect(oneAd).toBe(Math.round((campaign.bid * 1e6) / 1000));
    }
    const asks = [...asked.values()].reduce((n, budgets) => n + budgets.size, 0);
    expect(asks).toBe(active.size);
  });

  it('serves the union of the zones’ exhausted campaigns', async () => {
    standing.mockImplementation((day) => Promise.resolve(standingOf(day === '2026-12-01' ? [2, 4] : [3])));
    await sut.refresh(NOW);
    expect(sut.current()).toEqual(new Set([2, 3, 4]));
    expect(sut.status()).toEqual({ exhausted: 3, committed: 0, refreshedAt: NOW, failure: undefined });
  });

  it('also leaves out the campaigns whose budget live reservations hold, counted apart', async () => {
    standing.mockImplementation((day) =>
      Promise.resolve(day === '2026-12-01' ? standingOf([2], [4, 6]) : standingOf([], [3])),
    );
    await sut.refresh(NOW);
    expect(sut.current()).toEqual(new Set([2, 3, 4, 6]));
    expect(sut.status()).toMatchObject({ exhausted: 1, committed: 3 });
    expect(standing.mock.calls.every(([, , now]) => now === NOW)).toBe(true);

    // Their impressions were charged: the next refresh serves them again.
    standing.mockResolvedValue(standingOf([2]));
    await sut.refresh(NOW + 250);
    expect(sut.current()).toEqual(new Set([2]));
    expect(sut.status()).toMatchObject({ exhausted: 1, committed: 0 });
  });

  it('keeps the last known set while Redis fails, says so, and recovers', async () => {
    standing.mockResolvedValue(standingOf([2]));
    await sut.refresh(NOW);
    standing.mockRejectedValue(new Error('Connection is closed.'));

    await sut.refresh(NOW + 250);
    await sut.refresh(NOW + 500);

    expect(sut.current()).toEqual(new Set([2]));
    expect(sut.status()).toEqual({
      exhausted: 1,
      committed: 0,
      refreshedAt: NOW,
      failure: { message: 'Connection is closed.', since: NOW + 250 },
    });

    standing.mockResolvedValue(standingOf([2, 6]));
    await sut.refresh(NOW + 750);
    expect(sut.current()).toEqual(new Set([2, 6]));
    expect(sut.status().failure).toBeUndefined();
  });

  it('takes the billing day from the funnel clock when given no time', async () => {
    await sut.refresh();

    expect(standing.mock.calls.map(([day]) => day).sort()).toEqual(['2026-12-01', '2026-12-02']);
    expect(sut.status().refreshedAt).toBe(NOW);
  });

  it('takes the billing day of a campaign with an unknown time zone in UTC', async () => {
    const broken = ads.map((ad) => ({ ...ad, campaign: { ...ad.campaign, timezone: 'Mars/Olympus' } }));
    catalog.publish(catalogSnapshot('cat-2', broken));
    await sut.refresh(NOW);
    expect(standing.mock.calls.map(([day]) => day)).toEqual(['2026-12-01']);
  });
});
