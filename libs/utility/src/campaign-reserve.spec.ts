import { describe, expect, it } from '@jest/globals';
import { allocateInOrder } from './allocate-in-order.js';
import type { AuctionCandidate } from './auction-outcome.js';
import { reserveFor } from './campaign-reserve.js';
import { FLAT_EXAMINATION } from './examination.js';
import { PRICING_MECHANISMS } from './auction-outcome.js';
import { runAuction } from './run-auction.js';

/** 0.50 USD CPM surface reserve. */
const SURFACE = 0.0005;

function cpc(adId: number, bid: number, reservePerImpression?: number): AuctionCandidate {
  return {
    adId,
    campaignId: adId * 10,
    advertiserId: adId,
    bidType: 'CPC',
    bid,
    pCtr: 0.02,
    pCvr: 0.1,
    ...(reservePerImpression === undefined ? {} : { reservePerImpression }),
  };
}

describe(reserveFor.name, () => {
  it("is the higher of the surface's reserve and the campaign's own", () => {
    expect(reserveFor(cpc(1, 1), SURFACE)).toBe(SURFACE);
    expect(reserveFor(cpc(1, 1, 0.004), SURFACE)).toBe(0.004);
    expect(reserveFor(cpc(1, 1, 0.0001), SURFACE)).toBe(SURFACE);
  });

  it('refuses a negative campaign reserve, naming the ad', () => {
    expect(() => reserveFor(cpc(7, 1, -1), SURFACE)).toThrow(
      'candidate adId 7: reservePerImpression must be a finite number >= 0, got -1',
    );
  });
});

describe('per-campaign reserves in every mechanism', () => {
  // Values per impression: ad 1 0.50 x 0.02 = 0.010, ad 2 0.30 x 0.02 = 0.006, ad 3 0.10 x 0.02 = 0.002.
  it.each(PRICING_MECHANISMS)(
    '%s: an ad whose value is below its own reserve takes no slot, though above the surface reserve',
    (mechanism) => {
      const sut = runAuction(mechanism, {
        candidates: [cpc(1, 0.5, 0.011), cpc(2, 0.3), cpc(3, 0.1)],
        slots: 2,
        reservePerImpression: SURFACE,
        examination: FLAT_EXAMINATION,
      });
      expect(sut.winners.map((w) => w.adId)).toEqual([2, 3]);
      expect(sut.eligible).toBe(2);
    },
  );

  it.each(['gsp', 'vcg'] as const)(
    '%s: a winner pays at least its reserve: 0.008 / 0.02 = 0.40 per click, not the 0.30 next bid',
    (mechanism) => {
      const sut = runAuction(mechanism, {
        candidates: [cpc(1, 0.5, 0.008), cpc(2, 0.3)],
        slots: 1,
        reservePerImpression: SURFACE,
      });
      expect(sut.winners).toHaveLength(1);
      expect(sut.winners[0]).toMatchObject({ adId: 1, price: 0.4 });
    },
  );

  it("gsp: a campaign's reserve raises its own price only, not the price of the ad above it", () => {
    // Ad 2 (value 0.006) has a reserve of 0.005; ad 1 still pays ad 2's value 0.006 / 0.02 = 0.30.
    const sut = runAuction('gsp', {
      candidates: [cpc(1, 0.5), cpc(2, 0.3, 0.005), cpc(3, 0.1)],
      slots: 2,
      reservePerImpression: SURFACE,
      examination: FLAT_EXAMINATION,
    });
    expect(sut.winners.map((w) => [w.adId, w.price])).toEqual([
      [1, 0.3],
      [2, 0.25],
    ]);
  });

  it('first price: the winner pays its bid, which meets its reserve', () => {
    const sut = runAuction('first_price', {
      candidates: [cpc(1, 0.5, 0.008), cpc(2, 0.3)],
      slots: 1,
      reservePerImpression: SURFACE,
    });
    expect(sut.winners[0]).toMatchObject({ adId: 1, price: 0.5 });
  });
});

describe(`${allocateInOrder.name} with per-campaign reserves`, () => {
  it('skips an ad that cannot pay its own reserve at the priors and charges the others theirs', () => {
    // Priors pCtr 0.02 (pCvr irrelevant for CPC): ad 1 is worth 0.010, ad 2 0.006.
    const sut = allocateInOrder({
      candidates: [
        { adId: 1, campaignId: 10, advertiserId: 1, bidType: 'CPC', bid: 0.5, reservePerImpression: 0.02 },
        { adId: 2, campaignId: 20, advertiserId: 2, bidType: 'CPC', bid: 0.3, reservePerImpression: 0.004 },
      ],
      slots: 2,
      reservePerImpression: SURFACE,
      priors: { pCtr: 0.02, pCvr: 0.1 },
    });
    expect(sut.winners.map((w) => [w.adId, w.price])).toEqual([[2, 0.2]]);
  });
});
