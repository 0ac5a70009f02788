import { describe, expect, it } from '@jest/globals';
import { fitReserve, meanRevenue, type LoggedAuction } from './reserve-fit.js';

/** mulberry32: uniform [0, 1), reproducible from the seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(fitReserve.name, () => {
  it('finds the reserve a hand count gives: (3, 1), (2, 1), (1, 0.5) best at 2, revenue 4 / 3', () => {
    // r = 0: 1 + 1 + 0.5 = 2.5; r = 1: 1 + 1 + 1 = 3; r = 2: 2 + 2 = 4; r = 3: 3.
    const auctions = [
      { value: 3, competingBid: 1 },
      { value: 2, competingBid: 1 },
      { value: 1, competingBid: 0.5 },
    ];

    const sut = fitReserve(auctions, 0)!;

    expect(sut.reservePerImpression).toBe(2);
    expect(sut.revenueAtCurrent).toBeCloseTo(2.5 / 3, 12);
    expect(sut.revenueAtFitted).toBeCloseTo(4 / 3, 12);
    expect(sut.unfilledShare).toBeCloseTo(1 / 3, 12);
  });

  it('agrees with a brute-force scan of every candidate on random logs', () => {
    const random = seeded(7);
    for (let trial = 0; trial < 20; trial++) {
      const auctions: LoggedAuction[] = Array.from({ length: 60 }, () => {
        const a = Math.round(random() * 50) / 10;
        const b = Math.round(random() * 50) / 10;
        return { value: Math.max(a, b), competingBid: Math.max(0.5, Math.min(a, b)) };
      });
      const candidates = [0.5, ...auctions.map((a) => a.value).filter((v) => v >= 0.5)];
      const best = Math.max(...candidates.map((r) => meanRevenue(auctions, r)));

      const sut = fitReserve(auctions, 0.5)!;

      expect(sut.revenueAtFitted).toBeCloseTo(best, 10);
      expect(meanRevenue(auctions, sut.reservePerImpression)).toBeCloseTo(best, 10);
    }
  });

  it("recovers Myerson's reserve 0.5 for two bidders with uniform [0, 1] values", () => {
    // phi(v) = v - (1 - v) / 1 = 2v - 1 = 0 at v = 1/2, whatever the number of bidders.
    const random = seeded(11);
    const auctions = Array.from({ length: 20_000 }, () => {
      const a = random();
      const b = random();
      return { value: Math.max(a, b), competingBid: Math.min(a, b) };
    });

    const sut = fitReserve(auctions, 0)!;

    expect(sut.reservePerImpression).toBeGreaterThan(0.45);
    expect(sut.reservePerImpression).toBeLessThan(0.55);
    // E[revenue]: 1/3 without a reserve, 5/12 at the optimum.
    expect(sut.revenueAtCurrent).toBeCloseTo(1 / 3, 2);
    expect(sut.revenueAtFitted).toBeCloseTo(5 / 12, 2);
  });

  it('keeps the reserve in force when a higher one gains less than the tolerance', () => {
    // Reserve 1 earns 1 + 1 = 2 against 0.99 + 1 = 1.99 at 0.5: 0.5% more, above 0.1% but below 1%.
    const auctions = [
      { value: 1, competingBid: 0.99 },
      { value: 2, competingBid: 1 },
    ];
    expect(fitReserve(auctions, 0.5)!.reservePerImpression).toBe(1);
    expect(fitReserve(auctions, 0.5, 0.01)!.reservePerImpression).toBe(0.5);
  });

  it('never goes below the reserve in force (lower ones were censored in the log)', () => {
    const sut = fitReserve([{ value: 0.4, competingBid: 0.3 }], 0.3)!;
    expect(sut.reservePerImpression).toBe(0.4);
    expect(fitReserve([{ value: 0.4, competingBid: 0.4 }], 0.4)!.reservePerImpression).toBe(0.4);
  });

  it('answers null for an empty log and refuses negative figures, naming them', () => {
    expect(fitReserve([], 0)).toBeNull();
    expect(() => fitReserve([{ value: -1, competingBid: 0 }], 0)).toThrow(
      'auctions[0].value must be a finite number >= 0, got -1',
    );
  });
});
