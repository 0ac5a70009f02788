import type { CatalogAd } from '@adfunnel/catalog';
import type { AuctionRequest } from '@adfunnel/contracts';
import { FakeCatalogSnapshots, catalogAdFactory, catalogSnapshot } from '@adfunnel/testing';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { AuctionService } from './auction.service.js';
import { AuctionConfigSchema } from './config.js';
import type { PacingService } from './pacing/pacing.service.js';

/** A CPC campaign of its own per ad, with the catalog's per-campaign reserve (USD CPM) or none. */
function cpcAd(id: number, bid: number, reserveCpm: number | null): CatalogAd {
  return catalogAdFactory(id, { id: id * 100, advertiserId: id * 10, bidType: 'CPC', bid, reserveCpm });
}

describe(`${AuctionService.name} with per-campaign reserves`, () => {
  const pacing = { admits: () => true, countRequest: () => undefined } as unknown as PacingService;
  const serviceOver = (ads: CatalogAd[]) =>
    new AuctionService(
      new FakeCatalogSnapshots(catalogSnapshot('reserve-v1', ads)).asService(),
      pacing,
      { now: () => Date.UTC(2026, 2, 2, 9) },
      AuctionConfigSchema.parse({}),
    );
  // pCtr 0.02 each: ad 1 is worth 0.50 x 0.02 = 0.010 per impression, ad 2 0.30 x 0.02 = 0.006.
  const oneSlot = (): AuctionRequest => ({
    requestId: 'req-reserve',
    deadlineAt: Date.now() + 1000,
    surface: 'home_feed',
    device: 'mobile',
    slots: 1,
    adIds: [1, 2],
    predictions: { pCtr: [0.02, 0.02], pCvr: [0.1, 0.1] },
  });

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it("charges the winner its campaign's reserve when that is above the second price", () => {
    // reserve 8 CPM = 0.008 per impression > the next ad's 0.006: 0.008 / 0.02 = 0.40 per click
    const sut = serviceOver([cpcAd(1, 0.5, 8), cpcAd(2, 0.3, null)]);
    expect(sut.run(oneSlot()).winners.map((w) => [w.adId, w.price])).toEqual([[1, 0.4]]);
  });

  it('leaves out an ad whose value cannot reach its campaign reserve', () => {
    // reserve 12 CPM = 0.012 > ad 1's 0.010: ad 2 wins and pays the surface reserve 0.0005 / 0.02
    const sut = serviceOver([cpcAd(1, 0.5, 12), cpcAd(2, 0.3, null)]);
    const response = sut.run(oneSlot());
    expect(response.winners.map((w) => [w.adId, w.price])).toEqual([[2, 0.025]]);
    expect(response.eligible).toBe(1);
  });
});
