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

describe(ExhaustedCampaignsService.name, () => {
  let ads: CatalogAd[];
  let catalog: FakeCatalogSnapshots;
  let exhausted: jest.Mock<BudgetStore['exhausted']>;
  let sut: ExhaustedCampaignsService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    ads = adsFactory();
    catalog = new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads));
    exhausted = jest.fn<BudgetStore['exhausted']>().mockResolvedValue(new Set());
    const store = { exhausted } as unknown as BudgetStore;
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

  it('asks for each time zone’s billing day, with the spend at which each active campaign cannot hold one more ad', async () => {
    await sut.refresh(NOW);

    const asked = new Map(exhausted.mock.calls.map(([day, budgets]) => [day, budgets]));
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
      expect(asked.get(day)?.get(id)).toBe(Math.round(campaign.dailyBudget * 1e6) - oneAd + 1);
      if (campaign.bidType === 'CPM') expect(oneAd).toBe(Math.round((campaign.bid * 1e6) / 1000));
    }
    const asks = [...asked.values()].reduce((n, budgets) => n + budgets.size, 0);
    expect(asks).toBe(active.size);
  });

  it('serves the union of the zones’ exhausted campaigns', async () => {
    exhausted.mockImplementation((day) => Promise.resolve(new Set(day === '2026-12-01' ? [2, 4] : [3])));
    await sut.refresh(NOW);
    expect(sut.current()).toEqual(new Set([2, 3, 4]));
    expect(sut.status()).toEqual({ exhausted: 3, refreshedAt: NOW, failure: undefined });
  });

  it('keeps the last known set while Redis fails, says so, and recovers', async () => {
    exhausted.mockResolvedValue(new Set([2]));
    await sut.refresh(NOW);
    exhausted.mockRejectedValue(new Error('Connection is closed.'));

    await sut.refresh(NOW + 250);
    await sut.refresh(NOW + 500);

    expect(sut.current()).toEqual(new Set([2]));
    expect(sut.status()).toEqual({
      exhausted: 1,
      refreshedAt: NOW,
      failure: { message: 'Connection is closed.', since: NOW + 250 },
    });

    exhausted.mockResolvedValue(new Set([2, 6]));
    await sut.refresh(NOW + 750);
    expect(sut.current()).toEqual(new Set([2, 6]));
    expect(sut.status().failure).toBeUndefined();
  });

  it('takes the billing day from the funnel clock when given no time', async () => {
    await sut.refresh();

    expect(exhausted.mock.calls.map(([day]) => day).sort()).toEqual(['2026-12-01', '2026-12-02']);
    expect(sut.status().refreshedAt).toBe(NOW);
  });

  it('takes the billing day of a campaign with an unknown time zone in UTC', async () => {
    const broken = ads.map((ad) => ({ ...ad, campaign: { ...ad.campaign, timezone: 'Mars/Olympus' } }));
    catalog.publish(catalogSnapshot('cat-2', broken));
    await sut.refresh(NOW);
    expect(exhausted.mock.calls.map(([day]) => day)).toEqual(['2026-12-01']);
  });
});
