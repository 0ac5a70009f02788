import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
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

describe(CatalogSnapshotService.name, () => {
  let ads: CatalogAd[];
  let loadAds: jest.Mock<() => Promise<CatalogAd[]>>;
  let assertReady: jest.Mock<() => Promise<void>>;
  let sut: CatalogSnapshotService;

  function build(catalogRefreshMs: number): CatalogSnapshotService {
    return new CatalogSnapshotService(readerOf(loadAds), { assertReady } as unknown as CatalogStartupCheck, {
      catalogRefreshMs,
    });
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

/** The catalog a reader returns: changed by the test, read by every reader. */
let sharedCatalog: CatalogAd[] = [ad(1), ad(2)];
const started: CatalogSnapshotService[] = [];

function sharedService(sqlitePath: string, catalogRefreshMs = 0) {
  const loadAds = jest.fn(() => Promise.resolve(sharedCatalog));
  const sut = new CatalogSnapshotService(
    readerOf(loadAds),
    { assertReady: () => Promise.resolve() } as unknown as CatalogStartupCheck,
    { catalogRefreshMs, sqlitePath },
  );
  started.push(sut);
  return { sut, loadAds };
}

/**
 * Sharing is a switch for the whole process; the services above are built without a database
 * (no sqlitePath), so each keeps a feed of its own either way.
 */
describe('shareCatalogSnapshots (services co-located in one process)', () => {
  shareCatalogSnapshots();

  afterEach(() => {
    for (const sut of started.splice(0)) sut.onModuleDestroy();
    sharedCatalog = [ad(1), ad(2)];
  });

  it('loads the catalog of one database once for every service and hands them the same snapshot', async () => {
    const retrieval = sharedService('var/shared-a.sqlite');
    const ranking = sharedService('var/../var/shared-a.sqlite');

    await retrieval.sut.onModuleInit();
    await ranking.sut.onModuleInit();

    expect(retrieval.loadAds).toHaveBeenCalledTimes(1);
    expect(ranking.loadAds).not.toHaveBeenCalled();
    expect(ranking.sut.snapshot()).toBe(retrieval.sut.snapshot());
  });

  it("tells every service's listeners of a change, whichever service reloaded", async () => {
    const retrieval = sharedService('var/shared-b.sqlite');
    const auction = sharedService('var/shared-b.sqlite');
    await retrieval.sut.onModuleInit();
    await auction.sut.onModuleInit();
    const seen: string[] = [];
    retrieval.sut.onChange((next, previous) =>
      seen.push(`retrieval ${previous?.version} -> ${next.version}`),
    );
    auction.sut.onChange((next, previous) => seen.push(`auction ${previous?.version} -> ${next.version}`));
    const before = auction.sut.snapshot().version;

    sharedCatalog = [ad(1, 2), ad(2)];
    const after = await auction.sut.refresh();

    expect(after.version).not.toBe(before);
    expect(retrieval.sut.snapshot()).toBe(after);
    expect(seen).toEqual([
      `retrieval ${before} -> ${after.version}`,
      `auction ${before} -> ${after.version}`,
    ]);
  });

  it('keeps feeding the others when one service stops, through their own reader', async () => {
    const first = sharedService('var/shared-c.sqlite');
    const second = sharedService('var/shared-c.sqlite');
    await first.sut.onModuleInit();
    await second.sut.onModuleInit();

    first.sut.onModuleDestroy();
    sharedCatalog = [ad(1), ad(2), ad(3)];
    const next = await second.sut.refresh();

    expect(next.ads.map((a) => a.id)).toEqual([1, 2, 3]);
    expect(second.loadAds).toHaveBeenCalledTimes(1);
    expect(first.loadAds).toHaveBeenCalledTimes(1);
  });

  it('reloads once per period for all of them, on the shortest period', async () => {
    jest.useFakeTimers();
    try {
      const slow = sharedService('var/shared-d.sqlite', 60_000);
      const fast = sharedService('var/shared-d.sqlite', 1_000);
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
    const a = sharedService('var/shared-e.sqlite');
    const b = sharedService('var/shared-f.sqlite');
    await a.sut.onModuleInit();
    sharedCatalog = [ad(7)];
    await b.sut.onModuleInit();

    expect(a.sut.snapshot().ads.map((x) => x.id)).toEqual([1, 2]);
    expect(b.sut.snapshot().ads.map((x) => x.id)).toEqual([7]);
    expect(b.loadAds).toHaveBeenCalledTimes(1);
  });
});

/** A reader whose pages are one page of what `loadAds` answers, so the spec counts reloads by its calls. */
function readerOf(loadAds: () => Promise<CatalogAd[]>): CatalogReader {
  return {
    loadAds,
    async *adPages() {
      yield await loadAds();
    },
  } as unknown as CatalogReader;
}
