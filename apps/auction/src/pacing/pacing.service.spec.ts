import { beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { BudgetRedis, BudgetStore, PacingStore, PacingUpdate } from '@adfunnel/budget';
import type { CatalogAd } from '@adfunnel/catalog';
import { FakeCatalogSnapshots, catalogAds, catalogSnapshot } from '@adfunnel/testing';
import { Logger } from '@nestjs/common';
import { AuctionConfigSchema } from '../config.js';
import { PacingService } from './pacing.service.js';

const DAY_MS = 86_400_000;
const MIDNIGHT = Date.UTC(2026, 2, 2);

describe(PacingService.name, () => {
  let now: number;
  let requestCounts: jest.Mock<PacingStore['requestCounts']>;
  let commitSlice: jest.Mock<PacingStore['commitSlice']>;
  let rates: jest.Mock<PacingStore['rates']>;
  let sut: PacingService;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    now = MIDNIGHT + 15 * 3_600_000;
    requestCounts = jest.fn<PacingStore['requestCounts']>().mockResolvedValue([]);
    commitSlice = jest.fn<PacingStore['commitSlice']>().mockResolvedValue(true);
    rates = jest.fn<PacingStore['rates']>().mockResolvedValue(new Map());
    const store = {
      countRequests: () => Promise.resolve(),
      requestCounts,
      rates,
      states: () => Promise.resolve(new Map()),
      lockSlice: () => Promise.resolve(true),
      unlockSlice: () => Promise.resolve(),
      commitSlice,
    } as unknown as PacingStore;
    const budgets = {
      spendOf: (_day: string, ids: readonly number[]) => Promise.resolve(new Map(ids.map((id) => [id, 0]))),
    };
    const ads: CatalogAd[] = catalogAds().map((ad) => ({
      ...ad,
      campaign: { ...ad.campaign, status: 'active', pacing: ad.campaign.id % 2 === 0 ? 'asap' : 'even' },
    }));
    sut = new PacingService(
      new FakeCatalogSnapshots(catalogSnapshot('cat-1', ads)).asService(),
      store,
      budgets as unknown as BudgetStore,
      { explain: (error: Error) => error.message } as unknown as BudgetRedis,
      { now: () => now },
      AuctionConfigSchema.parse({ PACING_HISTORY_DAYS: '3' }),
    );
  });

  it('learns the traffic curve from complete UTC days only, once a day', async () => {
    await sut.tick();
    now += 60_000;
    await sut.tick();

    expect(requestCounts).toHaveBeenCalledTimes(1);
    expect(requestCounts).toHaveBeenCalledWith(MIDNIGHT - 3 * DAY_MS, MIDNIGHT);
  });

  it('sets a rate for every active even campaign and none for the asap ones', async () => {
    await sut.tick();

    const updates = commitSlice.mock.calls[0][2] as PacingUpdate[];
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((u) => u.campaignId % 2 === 1)).toBe(true);
    expect(updates.every((u) => u.rate.rate === 1)).toBe(true);
  });

  it('keeps the last known rates while Redis fails, and says so', async () => {
    rates.mockResolvedValue(new Map([[1, { rate: 0, validUntilMs: MIDNIGHT + DAY_MS }]]));
    await sut.tick();
    rates.mockRejectedValue(new Error('Connection is closed.'));
    now += 60_000;

    await sut.tick();

    expect(sut.status().failure?.message).toBe('Connection is closed.');
    expect(sut.status().throttled).toBe(1);
  });
});
