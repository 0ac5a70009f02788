import { describe, expect, it } from '@jest/globals';
import { fitReserves, reserveEnv, reserveTable } from './reserve-report.js';
import type { TopSlotAuction } from './served-top-auctions.js';

function auctions(surface: string, bidType: TopSlotAuction['bidType'], pairs: [number, number][]) {
  return pairs.map(([value, competingBid]): TopSlotAuction => ({ surface, bidType, value, competingBid }));
}

describe(fitReserves.name, () => {
  // home_feed: (0.003, 0.001), (0.002, 0.001), (0.001, 0.0005): best reserve 0.002 (2 CPM), see fitReserve.
  const log = [
    ...auctions('home_feed', 'CPC', [
      [0.003, 0.001],
      [0.002, 0.001],
    ]),
    ...auctions('home_feed', 'CPA', [[0.001, 0.0005]]),
    ...auctions('search', 'CPC', [[0.004, 0.0005]]),
  ];

  it('fits each surface and surface.BIDTYPE with enough auctions, and prints the line the auction reads', () => {
    const sut = fitReserves(log, 0.5, 2);

    expect(sut.map((f) => [f.key, f.fit.auctions, f.fit.reservePerImpression])).toEqual([
      ['home_feed', 3, 0.002],
      ['home_feed.CPC', 2, 0.002],
    ]);
    expect(reserveEnv(sut)).toBe('home_feed:2');
    expect(reserveTable(sut, 0.5)).toMatch(/^home_feed +3 +2 +0\.8333 +1\.3333 +60\.0% +33\.3%$/m);
  });

  it('says so when no surface has enough auctions', () => {
    expect(fitReserves(log, 0.5, 10)).toEqual([]);
    expect(reserveTable([], 0.5)).toMatch(/no surface has enough/);
  });
});
