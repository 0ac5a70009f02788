import { describe, expect, it } from '@jest/globals';
import type { UnscoredCandidate } from './auction-outcome.js';
import { allocateInOrder } from './allocate-in-order.js';
import { DEFAULT_PREDICTION_PRIORS } from './prediction-priors.js';

/** 0.50 USD CPM floor = 0.0005 USD per impression. */
const RESERVE = 0.0005;

function candidate(adId: number, advertiserId: number, bid: Partial<UnscoredCandidate>): UnscoredCandidate {
  return { adId, campaignId: adId * 10, advertiserId, bidType: 'CPM', bid: 1, ...bid };
}

describe(allocateInOrder.name, () => {
  it('uses priors pCtr 0.01 and pCvr 0.05 by default', () => {
    expect(DEFAULT_PREDICTION_PRIORS).toEqual({ pCtr: 0.01, pCvr: 0.05 });
  });

  it('keeps the given order and charges the reserve in each bid unit: CPC 0.0005/0.01 = 0.05, CPM 0.0005 x 1000 = 0.50, CPA 0.0005/(0.01 x 0.05) = 1.00', () => {
    // values at the priors: CPC 0.30 x 0.01 = 0.003; CPM 2 / 1000 = 0.002; CPA 5 x 0.01 x 0.05 = 0.0025 (not sorted by value)
    const sut = allocateInOrder({
      candidates: [
        candidate(5, 1, { bidType: 'CPC', bid: 0.3 }),
        candidate(2, 2, { bidType: 'CPM', bid: 2 }),
        candidate(9, 3, { bidType: 'CPA', bid: 5 }),
      ],
      slots: 3,
      reservePerImpression: RESERVE,
    });
    expect(sut.mechanism).toBe('retrieval_order');
    expect(sut.winners.map((w) => [w.slot, w.adId, w.price])).toEqual([
      [0, 5, 0.05],
      [1, 2, 0.5],
      [2, 9, 1],
    ]);
    expect(sut.winners.map((w) => w.valuePerImpression)).toEqual([
      expect.closeTo(0.003, 12),
      expect.closeTo(0.002, 12),
      expect.closeTo(0.0025, 12),
    ]);
    expect(sut.winners.every((w) => w.pCtr === null && w.pCvr === null)).toBe(true);
    expect(sut.reservePerImpression).toBe(RESERVE);
  });

  it('skips bids that cannot meet the reserve at the priors: CPC 0.04 x 0.01 = 0.0004, CPM 0.40 / 1000 = 0.0004, CPA 0.90 x 0.0005 = 0.00045', () => {
    const sut = allocateInOrder({
      candidates: [
        candidate(1, 1, { bidType: 'CPC', bid: 0.04 }),
        candidate(2, 2, { bidType: 'CPM', bid: 0.4 }),
        candidate(3, 3, { bidType: 'CPA', bid: 0.9 }),
        candidate(4, 4, { bidType: 'CPC', bid: 0.05 }),
      ],
      slots: 3,
      reservePerImpression: RESERVE,
    });
    // CPC 0.05 x 0.01 = 0.0005 meets the reserve exactly and pays its whole bid
    expect(sut.winners.map((w) => [w.adId, w.price])).toEqual([[4, 0.05]]);
    expect(sut.considered).toBe(4);
    expect(sut.eligible).toBe(1);
  });

  it('places one ad per advertiser: its first ad that can pay the reserve', () => {
    const sut = allocateInOrder({
      candidates: [
        candidate(1, 7, { bidType: 'CPM', bid: 0.1 }), // 0.0001 < reserve: skipped, advertiser 7 still open
        candidate(2, 8, { bidType: 'CPM', bid: 3 }),
        candidate(3, 7, { bidType: 'CPC', bid: 1 }),
        candidate(4, 8, { bidType: 'CPM', bid: 9 }), // advertiser 8 already placed
      ],
      slots: 4,
      reservePerImpression: RESERVE,
    });
    expect(sut.winners.map((w) => [w.slot, w.adId])).toEqual([
      [0, 2],
      [1, 3],
    ]);
    expect(sut.eligible).toBe(2);
  });

  it('fills at most `slots` and counts the eligible rest', () => {
    const sut = allocateInOrder({
      candidates: [candidate(1, 1, { bid: 2 }), candidate(2, 2, { bid: 2 }), candidate(3, 3, { bid: 2 })],
      slots: 2,
      reservePerImpression: RESERVE,
    });
    expect(sut.winners.map((w) => w.adId)).toEqual([1, 2]);
    expect(sut.eligible).toBe(3);
  });

  it('converts with configured priors: pCtr 0.02 -> CPC 0.0005/0.02 = 0.025; pCvr 0.1 -> CPA 0.0005/(0.02 x 0.1) = 0.25', () => {
    const sut = allocateInOrder({
      candidates: [candidate(1, 1, { bidType: 'CPC', bid: 1 }), candidate(2, 2, { bidType: 'CPA', bid: 1 })],
      slots: 2,
      reservePerImpression: RESERVE,
      priors: { pCtr: 0.02, pCvr: 0.1 },
    });
    expect(sut.winners.map((w) => w.price)).toEqual([0.025, 0.25]);
  });

  it('rounds the reserve price up to micro-dollars: 0.0005 / 0.03 = 0.0166666.. -> 0.016667 per click', () => {
    const sut = allocateInOrder({
      candidates: [candidate(1, 1, { bidType: 'CPC', bid: 1 })],
      slots: 1,
      reservePerImpression: RESERVE,
      priors: { pCtr: 0.03, pCvr: 0.05 },
    });
    expect(sut.winners[0].price).toBe(0.016667);
  });

  it('charges nothing with a zero reserve', () => {
    const sut = allocateInOrder({
      candidates: [candidate(1, 1, { bid: 2 })],
      slots: 1,
      reservePerImpression: 0,
    });
    expect(sut.winners[0].price).toBe(0);
  });

  it('rejects priors outside (0, 1] and a bad bid with the candidate named', () => {
    const ok = [candidate(1, 1, { bid: 2 })];
    expect(() =>
      allocateInOrder({
        candidates: ok,
        slots: 1,
        reservePerImpression: RESERVE,
        priors: { pCtr: 0, pCvr: 0.05 },
      }),
    ).toThrow('priors.pCtr must be a probability in (0, 1], got 0');
    expect(() =>
      allocateInOrder({
        candidates: [candidate(3, 1, { bid: -2 })],
        slots: 1,
        reservePerImpression: RESERVE,
      }),
    ).toThrow('candidate adId 3: bid must be a finite number >= 0, got -2');
  });
});
