import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { CatalogAd } from './catalog-ad.js';
import type { CatalogReader } from './catalog-reader.service.js';
import { CatalogSnapshotService } from './catalog-snapshot.service.js';
import type { CatalogStartupCheck } from './catalog-startup-check.service.js';

function ad(id: number, bid = 1): CatalogAd {
  return {
    id,
    campaignId: 1,
    advertiserId: 1,
    title: `ad ${id}`,
    text: 'text',
    imageUrl: 'https://img/1.jpg',
    landingUrl: 'https://land/1',
    category: 'books',
    categoryIndex: 6,
    status: 'active',
    embedding: new Float32Array(32).fill(id / 100),
    campaign: {
      id: 1,
      advertiserId: 1,
      status: 'active',
      bidType: 'CPC',
      bid,
      dailyBudget: 100,
      targetCountries: [],
      targetDevices: [],
      timezone: 'UTC',
      clickWindowDays: 7,
      pacing: 'even',
      frequencyCap: null,
      frequencyWindowHours: null,
    },
  };
}

describe(CatalogSnapshotService.name, () => {
  let ads: CatalogAd[];
  let loadAds: jest.Mock<() => Promise<CatalogAd[]>>;
  let assertReady: jest.Mock<() => Promise<void>>;
  let sut: CatalogSnapshotService;

  function build(catalogRefreshMs: number): CatalogSnapshotService {
    return new CatalogSnapshotService(
      { loadAds } as unknown as CatalogReader,
      { assertReady } as unknown as CatalogStartupCheck,
      { catalogRefreshMs },
    );
  }

  beforeEach(() => {
    ads = [ad(1), ad(2)];
    loadAds = jest.fn(() => Promise.resolve(ads));
    assertReady = jest.fn(() => Promise.resolve());
    sut = build(0);
  });

  afterEach(() => {
    sut.onModuleDestroy();
    jest.useRealTimers();
  });

  it('answers not_ready before the first load', () => {
    expect(() => sut.snapshot()).toThrow('catalog snapshot is not loaded yet');
  });

  it('checks readiness, then loads every ad indexed by id', async () => {
    await sut.onModuleInit();

    const snapshot = sut.snapshot();
    expect(assertReady).toHaveBeenCalledTimes(1);
    expect(snapshot.ads).toHaveLength(2);
    expect(snapshot.byId.get(2)?.title).toBe('ad 2');
    expect(snapshot.version).toMatch(/^cat-2-[0-9a-f]{16}$/);
  });

  it('does not load when the startup check fails', async () => {
    assertReady.mockRejectedValue(new Error('catalog is empty; run `npm run catalog -- seed`'));

    await expect(sut.onModuleInit()).rejects.toThrow('catalog is empty');
    expect(loadAds).not.toHaveBeenCalled();
  });

  it('keeps the same snapshot object when nothing changed', async () => {
    await sut.onModuleInit();
    const first = sut.snapshot();

    await sut.refresh();

    expect(sut.snapshot()).toBe(first);
  });

  it('swaps in a new snapshot and tells listeners when the catalog changed', async () => {
    await sut.onModuleInit();
    const first = sut.snapshot();
    const listener = jest.fn();
    sut.onChange(listener);

    ads = [ad(1, 2), ad(2), ad(3)];
    const next = await sut.refresh();

    expect(next).not.toBe(first);
    expect(next.version).not.toBe(first.version);
    expect(first.ads).toHaveLength(2);
    expect(sut.snapshot().byId.get(1)?.campaign.bid).toBe(2);
    expect(listener).toHaveBeenCalledWith(next, first);
  });

  it('joins a refresh already in flight', async () => {
    await sut.onModuleInit();
    loadAds.mockClear();

    await Promise.all([sut.refresh(), sut.refresh()]);

    expect(loadAds).toHaveBeenCalledTimes(1);
  });

  it('refreshes on its timer, keeps the old snapshot when a reload fails, and stops on shutdown', async () => {
    jest.useFakeTimers();
    sut = build(1000);
    await sut.onModuleInit();
    const first = sut.snapshot();

    loadAds.mockRejectedValueOnce(new Error('database is locked'));
    await jest.advanceTimersByTimeAsync(1000);
    expect(loadAds).toHaveBeenCalledTimes(2);
    expect(sut.snapshot()).toBe(first);

    ads = [ad(9)];
    await jest.advanceTimersByTimeAsync(1000);
    expect(sut.snapshot().byId.has(9)).toBe(true);

    sut.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(5000);
    expect(loadAds).toHaveBeenCalledTimes(3);
  });

  it('refuses a negative refresh interval', () => {
    expect(() => build(-1)).toThrow('catalogRefreshMs must be a non-negative integer');
  });
});
