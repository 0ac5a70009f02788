import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { CatalogAd } from './catalog-ad.js';
import type { CatalogReader } from './catalog-reader.service.js';
import { CatalogSnapshotService, shareCatalogSnapshots } from './catalog-snapshot.service.js';
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

/** The catalog a reader returns: changed by the test, read by every reader. */
let catalog: CatalogAd[] = [ad(1), ad(2)];
const started: CatalogSnapshotService[] = [];

function service(sqlitePath: string, catalogRefreshMs = 0) {
  const loadAds = jest.fn(() => Promise.resolve(catalog));
  const sut = new CatalogSnapshotService(
    { loadAds } as unknown as CatalogReader,
    { assertReady: () => Promise.resolve() } as unknown as CatalogStartupCheck,
    { catalogRefreshMs, sqlitePath },
  );
  started.push(sut);
  return { sut, loadAds };
}

describe('shareCatalogSnapshots (services co-located in one process)', () => {
  shareCatalogSnapshots();

  afterEach(() => {
    for (const sut of started.splice(0)) sut.onModuleDestroy();
    catalog = [ad(1), ad(2)];
  });

  it('loads the catalog of one database once for every service and hands them the same snapshot', async () => {
    const retrieval = service('var/shared-a.sqlite');
    const ranking = service('var/../var/shared-a.sqlite');

    await retrieval.sut.onModuleInit();
    await ranking.sut.onModuleInit();

    expect(retrieval.loadAds).toHaveBeenCalledTimes(1);
    expect(ranking.loadAds).not.toHaveBeenCalled();
    expect(ranking.sut.snapshot()).toBe(retrieval.sut.snapshot());
  });

  it("tells every service's listeners of a change, whichever service reloaded", async () => {
    const retrieval = service('var/shared-b.sqlite');
    const auction = service('var/shared-b.sqlite');
    await retrieval.sut.onModuleInit();
    await auction.sut.onModuleInit();
    const seen: string[] = [];
    retrieval.sut.onChange((next, previous) =>
      seen.push(`retrieval ${previous?.version} -> ${next.version}`),
    );
    auction.sut.onChange((next, previous) => seen.push(`auction ${previous?.version} -> ${next.version}`));
    const before = auction.sut.snapshot().version;

    catalog = [ad(1, 2), ad(2)];
    const after = await auction.sut.refresh();

    expect(after.version).not.toBe(before);
    expect(retrieval.sut.snapshot()).toBe(after);
    expect(seen).toEqual([
      `retrieval ${before} -> ${after.version}`,
      `auction ${before} -> ${after.version}`,
    ]);
  });

  it('keeps feeding the others when one service stops, through their own reader', async () => {
    const first = service('var/shared-c.sqlite');
    const second = service('var/shared-c.sqlite');
    await first.sut.onModuleInit();
    await second.sut.onModuleInit();

    first.sut.onModuleDestroy();
    catalog = [ad(1), ad(2), ad(3)];
    const next = await second.sut.refresh();

    expect(next.ads.map((a) => a.id)).toEqual([1, 2, 3]);
    expect(second.loadAds).toHaveBeenCalledTimes(1);
    expect(first.loadAds).toHaveBeenCalledTimes(1);
  });

  it('reloads once per period for all of them, on the shortest period', async () => {
    jest.useFakeTimers();
    try {
      const slow = service('var/shared-d.sqlite', 60_000);
      const fast = service('var/shared-d.sqlite', 1_000);
      await slow.sut.onModuleInit();
      await fast.sut.onModuleInit();
      const loads = () => slow.loadAds.mock.calls.length + fast.loadAds.mock.calls.length;
      expect(loads()).toBe(1);

      await jest.advanceTimersByTimeAsync(3_500);

      expect(loads()).toBe(4);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps the catalogs of different databases apart', async () => {
    const a = service('var/shared-e.sqlite');
    const b = service('var/shared-f.sqlite');
    await a.sut.onModuleInit();
    catalog = [ad(7)];
    await b.sut.onModuleInit();

    expect(a.sut.snapshot().ads.map((x) => x.id)).toEqual([1, 2]);
    expect(b.sut.snapshot().ads.map((x) => x.id)).toEqual([7]);
    expect(b.loadAds).toHaveBeenCalledTimes(1);
  });
});
