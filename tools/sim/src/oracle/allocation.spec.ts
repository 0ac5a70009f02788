import { describe, expect, it } from '@jest/globals';
import { allocationWelfare, bestAllocation } from './allocation.js';

/** Examination 1, 0.5, 0.25 by slot. */
const halving = (slot: number) => 0.5 ** slot;

describe(bestAllocation.name, () => {
  it('puts the most valuable ads in the best slots: 1 x 0.9 + 0.5 x 0.5 + 0.25 x 0.2 = 1.2', () => {
    const sut = bestAllocation(
      [
        { adId: 1, advertiserId: 1, value: 0.2 },
        { adId: 2, advertiserId: 2, value: 0.9 },
        { adId: 3, advertiserId: 3, value: 0.5 },
        { adId: 4, advertiserId: 4, value: 0.1 },
      ],
      3,
      halving,
    );
    expect(sut.adIds).toEqual([2, 3, 1]);
    expect(sut.welfare).toBeCloseTo(1.2, 12);
  });

  it("keeps one ad per advertiser: advertiser 1's second ad (0.8) loses to advertiser 2's 0.3", () => {
    const sut = bestAllocation(
      [
        { adId: 1, advertiserId: 1, value: 1.0 },
        { adId: 2, advertiserId: 1, value: 0.8 },
        { adId: 3, advertiserId: 2, value: 0.3 },
      ],
      2,
      halving,
    );
    expect(sut.adIds).toEqual([1, 3]);
    expect(sut.welfare).toBeCloseTo(1.0 + 0.5 * 0.3, 12);
  });

  it('leaves slots empty rather than fill them with worthless ads, and breaks ties by ad id', () => {
    const sut = bestAllocation(
      [
        { adId: 9, advertiserId: 1, value: 0.4 },
        { adId: 5, advertiserId: 2, value: 0.4 },
        { adId: 6, advertiserId: 3, value: 0 },
      ],
      3,
      halving,
    );
    expect(sut.adIds).toEqual([5, 9]);
    expect(bestAllocation([], 2, halving)).toEqual({ adIds: [], welfare: 0 });
  });

  it('is never beaten by any other one-ad-per-advertiser assignment (brute force on small markets)', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round++) {
      const ads = Array.from({ length: 5 }, (_, i) => ({
        adId: i + 1,
        advertiserId: 1 + Math.floor(random() * 3),
        value: random(),
      }));
      const best = bestAllocation(ads, 2, halving).welfare;
      for (const a of ads) {
        for (const b of ads) {
          if (a === b || a.advertiserId === b.advertiserId) continue;
          expect(best).toBeGreaterThanOrEqual(a.value + 0.5 * b.value - 1e-12);
        }
      }
    }
  });
});

describe(allocationWelfare.name, () => {
  it('weights each shown ad by the examination of its slot', () => {
    expect(
      allocationWelfare(
        [
          { slot: 0, value: 0.2 },
          { slot: 2, value: 0.4 },
        ],
        halving,
      ),
    ).toBeCloseTo(0.3, 12);
  });
});
