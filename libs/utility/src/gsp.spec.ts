import { describe, expect, it } from '@jest/globals';
import { BID_TYPES } from '@adfunnel/contracts';
import type { AuctionCandidate } from './auction-outcome.js';
import { runGsp } from './gsp.js';
import { FLAT_EXAMINATION } from './examination.js';
import { MICROS_PER_USD } from './money.js';
import { DEFAULT_UTILITY_WEIGHTS } from './utility.js';
import { valuePerImpression } from './value-per-impression.js';

/** 0.50 USD CPM floor = 0.0005 USD per impression. */
const RESERVE = 0.0005;

function candidate(adId: number, advertiserId: number, bid: Partial<AuctionCandidate>): AuctionCandidate {
  return {
    adId,
    campaignId: adId * 10,
    advertiserId,
    bidType: 'CPM',
    bid: 1,
    pCtr: 0.01,
    pCvr: 0.05,
    ...bid,
  };
}

function slotsOf(outcome: ReturnType<typeof runGsp>): Array<[number, number]> {
  return outcome.winners.map((w) => [w.slot, w.adId]);
}

describe(runGsp.name, () => {
  describe('one slot, three bid types competing', () => {
    // value per impression: CPC 0.50 x 0.02 = 0.010; CPM 8 / 1000 = 0.008; CPA 20 x 0.02 x 0.015 = 0.006
    const cpc = candidate(1, 10, { bidType: 'CPC', bid: 0.5, pCtr: 0.02 });
    const cpm = candidate(2, 20, { bidType: 'CPM', bid: 8 });
    const cpa = candidate(3, 30, { bidType: 'CPA', bid: 20, pCtr: 0.02, pCvr: 0.015 });

    it('CPC wins (0.010 > 0.008 > 0.006) and pays max(0.008, 0.0005) / 0.02 = 0.40 per click', () => {
      const sut = runGsp({ candidates: [cpm, cpa, cpc], slots: 1, reservePerImpression: RESERVE });
      expect(sut.mechanism).toBe('gsp');
      expect(slotsOf(sut)).toEqual([[0, 1]]);
      expect(sut.winners[0]).toMatchObject({
        bidType: 'CPC',
        bid: 0.5,
        price: 0.4,
        pCtr: 0.02,
        campaignId: 10,
      });
      expect(sut.winners[0].valuePerImpression).toBeCloseTo(0.01, 12);
      expect(sut.considered).toBe(3);
      expect(sut.eligible).toBe(3);
    });

    it('CPM at 12 (12 / 1000 = 0.012) beats the CPC 0.010 and pays 0.010 x 1000 = 10.00 CPM', () => {
      const sut = runGsp({
        candidates: [cpc, { ...cpm, bid: 12 }, cpa],
        slots: 1,
        reservePerImpression: RESERVE,
      });
      expect(sut.winners).toHaveLength(1);
      expect(sut.winners[0]).toMatchObject({ adId: 2, bidType: 'CPM', bid: 12, price: 10 });
    });

    it('CPA at 50 (50 x 0.02 x 0.015 = 0.015) wins and pays 0.010 / (0.02 x 0.015) = 33.3333.. rounded up to 33.333334', () => {
      const sut = runGsp({
        candidates: [cpc, cpm, { ...cpa, bid: 50 }],
        slots: 1,
        reservePerImpression: RESERVE,
      });
      expect(sut.winners[0]).toMatchObject({ adId: 3, bidType: 'CPA', bid: 50, price: 33.333334 });
    });
  });

  it('puts click ads above CPM ads (default examination 1, 0.75, 0.6) and prices each by what it keeps out', () => {
    // values: A CPC 1.00 x 0.03 = 0.030; B CPM 20 / 1000 = 0.020; C CPC 0.50 x 0.02 = 0.010; D CPA 10 x 0.01 x 0.05 = 0.005
    // click gains: A 1 x 0.030 >= reserve, C 0.75 x 0.010 = 0.0075 >= reserve, D 0.6 x 0.005 = 0.003 < B 0.020: A, C, then B
    const a = candidate(1, 1, { bidType: 'CPC', bid: 1, pCtr: 0.03 });
    const b = candidate(2, 2, { bidType: 'CPM', bid: 20 });
    const c = candidate(3, 3, { bidType: 'CPC', bid: 0.5, pCtr: 0.02 });
    const d = candidate(4, 4, { bidType: 'CPA', bid: 10, pCtr: 0.01, pCvr: 0.05 });
    const sut = runGsp({ candidates: [d, c, b, a], slots: 3, reservePerImpression: RESERVE });
    expect(slotsOf(sut)).toEqual([
      [0, 1],
      [1, 3],
      [2, 2],
    ]);
    // A: C's 0.010 / 0.03 = 0.333334; C: D's 0.005 / 0.02 = 0.25; B, last: D at slot 2 is worth 0.6 x 0.005 = 0.003 -> 3.00 CPM
    expect(sut.winners.map((w) => w.price)).toEqual([0.333334, 0.25, 3]);
    expect(sut.winners.map((w) => w.examination)).toEqual([1, 0.75, 0.6]);
    expect(sut.eligible).toBe(4);
  });

  it('prices the classic way without position effects or CPM ads: each pays the next ad down', () => {
    // CPC values 1.00 x 0.03 = 0.030, 0.50 x 0.04 = 0.020, 0.50 x 0.02 = 0.010; flat examination
    const ads = [
      candidate(1, 1, { bidType: 'CPC', bid: 1, pCtr: 0.03 }),
      candidate(2, 2, { bidType: 'CPC', bid: 0.5, pCtr: 0.04 }),
      candidate(3, 3, { bidType: 'CPC', bid: 0.5, pCtr: 0.02 }),
    ];
    const sut = runGsp({
      candidates: ads,
      slots: 2,
      reservePerImpression: RESERVE,
      examination: FLAT_EXAMINATION,
    });
    // 0.020 / 0.03 = 0.666667, 0.010 / 0.04 = 0.25
    expect(sut.winners.map((w) => [w.adId, w.price])).toEqual([
      [1, 0.666667],
      [2, 0.25],
    ]);
  });

  it("keeps one ad per advertiser: the advertiser's second ad neither wins nor sets its price", () => {
    // advertiser 10: A1 CPC 1.00 x 0.03 = 0.030, A2 CPM 25 / 1000 = 0.025; advertiser 20: B CPM 10 / 1000 = 0.010
    const a1 = candidate(1, 10, { bidType: 'CPC', bid: 1, pCtr: 0.03 });
    const a2 = candidate(2, 10, { bidType: 'CPM', bid: 25 });
    const b = candidate(3, 20, { bidType: 'CPM', bid: 10 });
    const sut = runGsp({ candidates: [a2, b, a1], slots: 2, reservePerImpression: RESERVE });
    // B is worth as much in slot 1 as in slot 0, so it does not contend for slot 0: A1 keeps out only the
    // reserve, 0.0005 / 0.03 = 0.016667 per click; B pays the reserve 0.50 CPM
    expect(slotsOf(sut)).toEqual([
      [0, 1],
      [1, 3],
    ]);
    expect(sut.winners.map((w) => w.price)).toEqual([0.016667, 0.5]);
    expect(sut.eligible).toBe(2);
  });

  describe('reserve', () => {
    it('drops ads below it and binds when no competitor remains: reserve 0.002, CPM 1.50 (0.0015) dropped, CPC pays 0.002 / 0.02 = 0.10', () => {
      const cpc = candidate(1, 1, { bidType: 'CPC', bid: 0.5, pCtr: 0.02 });
      const lowCpm = candidate(2, 2, { bidType: 'CPM', bid: 1.5 });
      const sut = runGsp({ candidates: [cpc, lowCpm], slots: 2, reservePerImpression: 0.002 });
      expect(slotsOf(sut)).toEqual([[0, 1]]);
      expect(sut.winners[0].price).toBe(0.1);
      expect(sut.considered).toBe(2);
      expect(sut.eligible).toBe(1);
    });

    it('admits an ad exactly at the reserve (CPC 0.05 x 0.01 = 0.0005) and charges its whole bid', () => {
      const sut = runGsp({
        candidates: [candidate(1, 1, { bidType: 'CPC', bid: 0.05, pCtr: 0.01 })],
        slots: 1,
        reservePerImpression: RESERVE,
      });
      expect(sut.winners[0].price).toBe(0.05);
    });

    it('returns no winners when every ad is below it', () => {
      const sut = runGsp({
        candidates: [
          candidate(1, 1, { bidType: 'CPM', bid: 0.4 }),
          candidate(2, 2, { bidType: 'CPC', bid: 0.04 }),
        ],
        slots: 3,
        reservePerImpression: RESERVE,
      });
      expect(sut.winners).toEqual([]);
      expect(sut.eligible).toBe(0);
    });
  });

  it('prices the last filled slot at the reserve when no competitor remains: CPC 0.20 pays 0.0005 / 0.01 = 0.05, CPM 4 pays 0.50', () => {
    // values: CPM 4 / 1000 = 0.004; CPC 0.20 x 0.01 = 0.002; three slots, two ads: the click ad goes on top
    const cpm = candidate(1, 1, { bidType: 'CPM', bid: 4 });
    const cpc = candidate(2, 2, { bidType: 'CPC', bid: 0.2, pCtr: 0.01 });
    const sut = runGsp({ candidates: [cpc, cpm], slots: 3, reservePerImpression: RESERVE });
    expect(slotsOf(sut)).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(sut.winners.map((w) => w.price)).toEqual([0.05, 0.5]);
  });

  it('leaves a slot empty when a click ad is worth less than the reserve there: 0.6 x 0.0008 < 0.0005', () => {
    // CPC 0.08 x 0.01 = 0.0008 per examined impression in three slots; slot 2 would bring 0.6 x 0.0008 = 0.00048
    const ads = [1, 2, 3].map((id) => candidate(id, id, { bidType: 'CPC', bid: 0.08, pCtr: 0.01 }));
    const sut = runGsp({ candidates: ads, slots: 3, reservePerImpression: RESERVE });
    expect(slotsOf(sut)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    // each ties the click ad below it (ad 3 for ad 2: 0.0008 > the reserve's 0.0005 / 0.75), so pays its bid
    expect(sut.winners.map((w) => w.price)).toEqual([0.08, 0.08]);
    expect(sut.eligible).toBe(3);
  });

  describe('quality floors', () => {
    // CPM 30 at pCTR 0.0001 (0.030 per impression) and CPC 0.50 x 0.02 = 0.010 for one slot
    const junk = candidate(1, 1, { bidType: 'CPM', bid: 30, pCtr: 0.0001 });
    const good = candidate(2, 2, { bidType: 'CPC', bid: 0.5, pCtr: 0.02 });

    it('keep a CPM ad below the minimum pCTR out of every slot; the ad left pays the reserve, 0.0005 / 0.02 = 0.025', () => {
      expect(slotsOf(runGsp({ candidates: [junk, good], slots: 1, reservePerImpression: RESERVE }))).toEqual([
        [0, 1],
      ]);
      const sut = runGsp({
        candidates: [junk, good],
        slots: 1,
        reservePerImpression: RESERVE,
        floors: { minPCtr: 0.001, minUtility: 0 },
      });
      expect(sut.winners.map((w) => [w.adId, w.price])).toEqual([[2, 0.025]]);
      expect(sut.eligible).toBe(1);
    });

    it('drop ads whose utility is under the minimum without raising anyone’s price', () => {
      const sut = runGsp({
        candidates: [junk, good],
        slots: 2,
        reservePerImpression: RESERVE,
        floors: { minPCtr: 0, minUtility: 0.02 },
      });
      expect(sut.winners.map((w) => [w.adId, w.price])).toEqual([[1, 0.5]]);
    });

    it('reject a floor out of range', () => {
      expect(() =>
        runGsp({
          candidates: [good],
          slots: 1,
          reservePerImpression: RESERVE,
          floors: { minPCtr: 2, minUtility: 0 },
        }),
      ).toThrow('floors.minPCtr must be a probability in [0, 1], got 2');
    });
  });

  describe('ties', () => {
    // CPC 0.10 x 0.01 = 0.001 twice, and a CPM 1.00 / 1000 = 0.001: equal value per examined impression
    const cpcHigh = candidate(7, 1, { bidType: 'CPC', bid: 0.1, pCtr: 0.01 });
    const cpcLow = candidate(3, 2, { bidType: 'CPC', bid: 0.1, pCtr: 0.01 });
    const cpm = candidate(1, 3, { bidType: 'CPM', bid: 1 });

    it('between click ads go to the lower adId whatever the input order; it pays the tied 0.10, its bid', () => {
      for (const candidates of [
        [cpcHigh, cpcLow],
        [cpcLow, cpcHigh],
      ]) {
        const sut = runGsp({ candidates, slots: 2, reservePerImpression: RESERVE });
        expect(slotsOf(sut)).toEqual([
          [0, 3],
          [1, 7],
        ]);
        // the second must bring the reserve at examination 0.75: 0.0005 / 0.75 / 0.01 = 0.0666.. -> 0.066667
        expect(sut.winners.map((w) => w.price)).toEqual([0.1, 0.066667]);
      }
    });

    it('between a click ad and a CPM ad for one slot go to the click ad, which pays the tied 0.10', () => {
      const sut = runGsp({ candidates: [cpm, cpcHigh], slots: 1, reservePerImpression: RESERVE });
      expect(slotsOf(sut)).toEqual([[0, 7]]);
      expect(sut.winners[0].price).toBe(0.1);
    });
    it("keep an advertiser's lower adId when its two ads tie", () => {
      const sut = runGsp({
        candidates: [candidate(9, 5, { bid: 3 }), candidate(4, 5, { bid: 3 })],
        slots: 2,
        reservePerImpression: RESERVE,
      });
      expect(slotsOf(sut)).toEqual([[0, 4]]);
    });
  });

  it('fills no more than `slots` but lets the first loser set the last winner’s price', () => {
    // CPM 6, 5, 4 -> 0.006, 0.005, 0.004 per impression; one slot: 0.005 x 1000 = 5.00
    const sut = runGsp({
      candidates: [candidate(1, 1, { bid: 6 }), candidate(2, 2, { bid: 5 }), candidate(3, 3, { bid: 4 })],
      slots: 1,
      reservePerImpression: RESERVE,
    });
    expect(sut.winners.map((w) => [w.adId, w.price])).toEqual([[1, 5]]);
    expect(sut.eligible).toBe(3);
  });

  it('never charges above the bid and fills slots from the top, one ad per advertiser (seeded random markets)', () => {
    const random = mulberry32(20240601);
    for (let round = 0; round < 500; round++) {
      const count = 1 + Math.floor(random() * 30);
      const candidates: AuctionCandidate[] = [];
      for (let i = 0; i < count; i++) {
        const bidType = BID_TYPES[Math.floor(random() * BID_TYPES.length)];
        candidates.push({
          adId: 1 + Math.floor(random() * 1000),
          campaignId: i + 1,
          advertiserId: 1 + Math.floor(random() * 12),
          bidType,
          bid: Math.round(random() * (bidType === 'CPM' ? 20 : bidType === 'CPC' ? 2 : 50) * 100) / 100,
          pCtr: random() < 0.05 ? 0 : random() * 0.1,
          pCvr: random() * 0.2,
        });
      }
      const reserve = random() < 0.2 ? 0 : random() * 0.002;
      const slots = 1 + Math.floor(random() * 6);
      const sut = runGsp({ candidates, slots, reservePerImpression: reserve });

      expect(sut.winners.length).toBeLessThanOrEqual(Math.min(slots, sut.eligible));
      expect(new Set(sut.winners.map((w) => w.advertiserId)).size).toBe(sut.winners.length);
      sut.winners.forEach((w, i) => {
        expect(w.slot).toBe(i);
        expect(w.price).toBeLessThanOrEqual(w.bid);
        expect(Object.is(w.price, -0)).toBe(false);
        expect(w.price).toBeGreaterThanOrEqual(0);
        expect(w.valuePerImpression).toBeGreaterThanOrEqual(reserve - 1e-12);
        // whole micro-dollars unless capped at the bid
        if (w.price !== w.bid)
          expect(Math.abs(w.price * MICROS_PER_USD - Math.round(w.price * MICROS_PER_USD))).toBeLessThan(
            1e-6,
          );
        expect(w.valuePerImpression).toBeCloseTo(
          valuePerImpression({ ...w, pCtr: w.pCtr!, pCvr: w.pCvr! }),
          12,
        );
      });
    }
  });

  describe('input checks', () => {
    const ok = candidate(1, 1, { bid: 2 });

    it.each([0, 1.5, -1])('rejects slots = %p', (slots) => {
      expect(() => runGsp({ candidates: [ok], slots, reservePerImpression: RESERVE })).toThrow(
        /slots must be an integer >= 1/,
      );
    });

    it('rejects a negative or non-finite reserve', () => {
      expect(() => runGsp({ candidates: [ok], slots: 1, reservePerImpression: -0.1 })).toThrow(
        /reservePerImpression must be a finite number >= 0, got -0.1/,
      );
      expect(() => runGsp({ candidates: [ok], slots: 1, reservePerImpression: Number.NaN })).toThrow(
        RangeError,
      );
    });

    it('names the candidate with a bad prediction', () => {
      const bad = candidate(42, 2, { bidType: 'CPC', pCtr: 1.5 });
      expect(() => runGsp({ candidates: [ok, bad], slots: 1, reservePerImpression: RESERVE })).toThrow(
        'candidate adId 42: pCtr must be a probability in [0, 1], got 1.5',
      );
    });

    it('rejects a non-positive advertiser-value weight', () => {
      expect(() =>
        runGsp({
          candidates: [ok],
          slots: 1,
          reservePerImpression: RESERVE,
          weights: { ...DEFAULT_UTILITY_WEIGHTS, advertiserValue: 0 },
        }),
      ).toThrow(/weights.advertiserValue must be a finite number > 0, got 0/);
    });
  });
});

/** Small seeded generator so the random markets are the same on every run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
