import { describe, expect, it } from '@jest/globals';
import { BID_TYPES } from '@adfunnel/contracts';
import {
  MECHANISMS,
  PRICING_MECHANISMS,
  type AuctionCandidate,
  type AuctionInput,
} from './auction-outcome.js';
import { examinationAt, type Examination } from './examination.js';
import { runAuction } from './run-auction.js';
import { runGsp } from './gsp.js';
import { runVcg } from './vcg.js';
import { allocateSlots } from './slot-allocation.js';
import { DEFAULT_UTILITY_SCALES, DEFAULT_UTILITY_WEIGHTS, utility, utilityContext } from './utility.js';
import { priceInBidUnit, valuePerImpression } from './value-per-impression.js';

/** Seeded generator (mulberry32) so every run draws the same markets. */
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

/** A random market: one ad per advertiser, mixed bid types, a random decreasing examination vector. */
function randomMarket(random: () => number, maxAds = 7): AuctionInput {
  const count = 1 + Math.floor(random() * maxAds);
  const candidates: AuctionCandidate[] = Array.from({ length: count }, (_, i) => {
    const bidType = BID_TYPES[Math.floor(random() * BID_TYPES.length)];
    return {
      adId: i + 1,
      campaignId: i + 1,
      advertiserId: i + 1,
      bidType,
      bid: Math.round(random() * (bidType === 'CPM' ? 20 : bidType === 'CPC' ? 2 : 50) * 100) / 100,
      pCtr: 0.001 + random() * 0.05,
      pCvr: 0.01 + random() * 0.2,
    };
  });
  const slots = 1 + Math.floor(random() * 4);
  const examination = [1];
  for (let s = 1; s < slots; s++) examination.push(examination[s - 1] * (0.4 + 0.6 * random()));
  return { candidates, slots, reservePerImpression: random() < 0.3 ? 0 : random() * 0.003, examination };
}

/**
 * A random market whose ads carry pHide, for a user with some recent exposure, ranked with random
 * weights on all four terms: the non-bid terms range from well below 0 to above the ads' values.
 */
function randomUserMarket(random: () => number, maxAds = 7): AuctionInput {
  const market = randomMarket(random, maxAds);
  return {
    ...market,
    candidates: market.candidates.map((c) => (random() < 0.8 ? { ...c, pHide: random() * 0.05 } : c)),
    weights: {
      advertiserValue: 0.5 + 1.5 * random(),
      userValue: 2 * random(),
      hide: 2 * random(),
      fatigue: 2 * random(),
    },
    scales: { ...DEFAULT_UTILITY_SCALES, usdPerClick: 2 * random() },
    userExposure: random() < 0.2 ? undefined : 10 * random(),
  };
}

function slotUtility(candidate: AuctionCandidate, examination: Examination, slot: number): number {
  const value = valuePerImpression(candidate);
  return candidate.bidType === 'CPM' ? value : examinationAt(examination, slot) * value;
}

/** The ad's utility with the market's weights and user, in the slot. */
function weightedSlotUtility(input: AuctionInput, candidate: AuctionCandidate, slot: number): number {
  const context = utilityContext(input.scales ?? DEFAULT_UTILITY_SCALES, input.userExposure);
  const u = utility(candidate, input.weights ?? DEFAULT_UTILITY_WEIGHTS, context).utility;
  return candidate.bidType === 'CPM' ? u : examinationAt(input.examination!, slot) * u;
}

/**
 * The best assignment by enumeration: every ad in at most one slot, an empty slot worth the reserve
 * (times the advertiser-value weight), ads below the reserve left out.
 */
function bruteForceWelfare(input: AuctionInput, without?: number): number {
  const ads = input.candidates.filter((c) => c.adId !== without);
  const emptySlot = (input.weights ?? DEFAULT_UTILITY_WEIGHTS).advertiserValue * input.reservePerImpression;
  const best = (slot: number, used: Set<number>): number => {
    if (slot === input.slots) return 0;
    let top = emptySlot + best(slot + 1, used);
    for (const ad of ads) {
      if (used.has(ad.adId) || valuePerImpression(ad) < input.reservePerImpression) continue;
      used.add(ad.adId);
      top = Math.max(top, weightedSlotUtility(input, ad, slot) + best(slot + 1, used));
      used.delete(ad.adId);
    }
    return top;
  };
  return best(0, new Set());
}

function slotOf(input: AuctionInput, adId: number): number {
  return runGsp(input).winners.find((w) => w.adId === adId)?.slot ?? Number.POSITIVE_INFINITY;
}

function withBid(input: AuctionInput, adId: number, bid: number): AuctionInput {
  return { ...input, candidates: input.candidates.map((c) => (c.adId === adId ? { ...c, bid } : c)) };
}

const ROUNDS = 400;

describe('auction mechanisms (seeded random markets)', () => {
  it('lists the pricing mechanisms and retrieval order', () => {
    expect(MECHANISMS).toEqual(['gsp', 'vcg', 'first_price', 'retrieval_order']);
    expect(() => runAuction('second_price' as never, randomMarket(seeded(1)))).toThrow(
      'mechanism must be one of gsp, vcg, first_price, got second_price',
    );
  });

  it('allocates the assignment of largest total utility, the same one under every mechanism', () => {
    const random = seeded(11);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomMarket(random);
      const allocation = allocateSlots(input);
      const total =
        allocation.placements.reduce((sum, p) => sum + p.slotUtility, 0) +
        (input.slots - allocation.placements.length) * input.reservePerImpression;
      expect(total).toBeCloseTo(bruteForceWelfare(input), 10);
      const slots = PRICING_MECHANISMS.map((m) => runAuction(m, input).winners.map((w) => [w.adId, w.slot]));
      expect(slots[1]).toEqual(slots[0]);
      expect(slots[2]).toEqual(slots[0]);
    }
  });

  it('never charges above the bid, and an expected payment never exceeds the expected value in the slot', () => {
    const random = seeded(12);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomMarket(random);
      for (const mechanism of PRICING_MECHANISMS) {
        for (const w of runAuction(mechanism, input).winners) {
          expect(w.price).toBeLessThanOrEqual(w.bid);
          expect(w.price).toBeGreaterThanOrEqual(0);
          // expected payment per impression in the slot: price x examination-weighted conversions
          const perExamined =
            w.bidType === 'CPM' ? 1 / 1000 : w.bidType === 'CPC' ? w.pCtr! : w.pCtr! * w.pCvr!;
          const weight = w.bidType === 'CPM' ? 1 : w.examination;
          expect(w.price * perExamined * weight).toBeLessThanOrEqual(w.valuePerImpression * weight + 1e-12);
        }
      }
    }
  });

  it('first price charges the bid', () => {
    const random = seeded(13);
    for (let round = 0; round < ROUNDS; round++) {
      for (const w of runAuction('first_price', randomMarket(random)).winners) expect(w.price).toBe(w.bid);
    }
  });

  it('is monotone: raising a bid never lowers the slot nor drops the ad', () => {
    const random = seeded(14);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomMarket(random);
      const ad = input.candidates[Math.floor(random() * input.candidates.length)];
      const before = slotOf(input, ad.adId);
      const after = slotOf(withBid(input, ad.adId, ad.bid * (1 + 3 * random()) + 0.01), ad.adId);
      expect(after).toBeLessThanOrEqual(before);
    }
  });

  it('GSP charges the least bid that keeps the slot: a micro more keeps it, two less lose it', () => {
    const random = seeded(15);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomMarket(random);
      for (const w of runGsp(input).winners) {
        // a bid equal to the price may tie the competitor it had to beat (ties go to the lower adId)
        const over = Math.min(w.bid, w.price + 0.000001);
        expect(slotOf(withBid(input, w.adId, over), w.adId)).toBe(w.slot);
        // prices round up to micros, so 2 micros under the price is under the threshold
        const under = w.price - 0.000002;
        if (under > 0 && w.price < w.bid)
          expect(slotOf(withBid(input, w.adId, under), w.adId)).toBeGreaterThan(w.slot);
      }
    }
  });

  it('VCG charges the externality W(without the ad) - (W - its slot utility), found by enumeration', () => {
    const random = seeded(16);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomMarket(random, 5);
      const total = bruteForceWelfare(input);
      for (const w of runVcg(input).winners) {
        const ad = input.candidates.find((c) => c.adId === w.adId)!;
        const own = slotUtility(ad, input.examination!, w.slot);
        const externality = bruteForceWelfare(input, w.adId) - (total - own);
        const perExamined = w.bidType === 'CPM' ? externality : externality / w.examination;
        const expected = Math.min(
          w.bid,
          priceInBidUnit({ ...ad, valuePerImpression: Math.max(0, perExamined) }),
        );
        expect(w.price).toBeGreaterThanOrEqual(expected - 1e-9);
        expect(w.price).toBeLessThanOrEqual(expected + 1e-6 + 1e-9);
      }
    }
  });

  it('VCG is truthful: no ad gains by bidding other than its value', () => {
    const random = seeded(17);
    const surplus = (input: AuctionInput, adId: number, value: AuctionCandidate): number => {
      const w = runVcg(input).winners.find((x) => x.adId === adId);
      if (w === undefined) return 0;
      const ownValue = slotUtility(value, input.examination!, w.slot);
      const paid = slotUtility({ ...value, bid: w.price }, input.examination!, w.slot);
      return ownValue - paid;
    };
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomMarket(random, 5);
      const ad = input.candidates[Math.floor(random() * input.candidates.length)];
      const truthful = surplus(input, ad.adId, ad);
      const lie = surplus(withBid(input, ad.adId, ad.bid * 2 * random()), ad.adId, ad);
      // micro rounding can move a payment by a micro-dollar per unit
      expect(lie).toBeLessThanOrEqual(truthful + 1e-8);
    }
  });

  it('VCG revenue equals GSP revenue at the lowest envy-free equilibrium and is below it at the highest (click ads)', () => {
    const random = seeded(18);
    const figures: Array<[number, number, number]> = [];
    for (let round = 0; round < 200; round++) {
      const slots = 1 + Math.floor(random() * 4);
      const values = Array.from({ length: slots + 1 }, () => 0.1 + random() * 3).sort((a, b) => b - a);
      const examination = [1];
      for (let s = 1; s < slots; s++) examination.push(examination[s - 1] * (0.3 + 0.65 * random()));
      const ads = (bids: readonly number[]): AuctionCandidate[] =>
        bids.map((bid, i) => ({
          adId: i + 1,
          campaignId: i + 1,
          advertiserId: i + 1,
          bidType: 'CPC',
          bid,
          pCtr: 0.02,
          pCvr: 0.05,
        }));
      const eos = (upper: boolean): number[] => {
        const bids = [...values];
        for (let j = slots - 1; j >= 1; j--) {
          const s = upper ? values[j - 1] : values[j];
          bids[j] = s - (examination[j] / examination[j - 1]) * (s - bids[j + 1]);
        }
        return bids;
      };
      const revenue = (mechanism: 'gsp' | 'vcg', bids: readonly number[]): number =>
        runAuction(mechanism, {
          candidates: ads(bids),
          slots,
          reservePerImpression: 0,
          examination,
        }).winners.reduce((sum, w) => sum + examination[w.slot] * w.price, 0);
      const vcg = revenue('vcg', values);
      const low = revenue('gsp', eos(false));
      const high = revenue('gsp', eos(true));
      // both round each price up to micros: at most one micro per slot apart
      expect(Math.abs(low - vcg)).toBeLessThanOrEqual(slots * 1e-6 + 1e-12);
      expect(high).toBeGreaterThanOrEqual(vcg - slots * 1e-6);
      figures.push([vcg, low, high]);
    }
    const mean = (k: number) => figures.reduce((sum, f) => sum + f[k], 0) / figures.length;
    expect(mean(2) / mean(0)).toBeGreaterThan(1);
  });
});

describe('auction mechanisms with user value, hide and fatigue terms (seeded random markets)', () => {
  it('allocates the assignment of largest total utility, empty slots at the reserve', () => {
    const random = seeded(21);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomUserMarket(random);
      const allocation = allocateSlots(input);
      const emptySlot = input.weights!.advertiserValue * input.reservePerImpression;
      const total =
        allocation.placements.reduce((sum, p) => sum + p.slotUtility, 0) +
        (input.slots - allocation.placements.length) * emptySlot;
      expect(total).toBeCloseTo(bruteForceWelfare(input), 10);
    }
  });

  it('stays individually rational: 0 <= price <= bid, expected payment <= expected value, and >= the reserve', () => {
    const random = seeded(22);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomUserMarket(random);
      for (const mechanism of PRICING_MECHANISMS) {
        for (const w of runAuction(mechanism, input).winners) {
          expect(w.price).toBeLessThanOrEqual(w.bid);
          expect(w.price).toBeGreaterThanOrEqual(0);
          const perExamined =
            w.bidType === 'CPM' ? 1 / 1000 : w.bidType === 'CPC' ? w.pCtr! : w.pCtr! * w.pCvr!;
          expect(w.price * perExamined).toBeLessThanOrEqual(w.valuePerImpression + 1e-12);
          if (mechanism === 'first_price') expect(w.price).toBe(w.bid);
          else if (w.price < w.bid)
            expect(w.price * perExamined).toBeGreaterThanOrEqual(input.reservePerImpression - 1e-12);
        }
      }
    }
  });

  it('is monotone: raising a bid never lowers the slot nor drops the ad', () => {
    const random = seeded(23);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomUserMarket(random);
      const ad = input.candidates[Math.floor(random() * input.candidates.length)];
      const before = slotOf(input, ad.adId);
      const after = slotOf(withBid(input, ad.adId, ad.bid * (1 + 3 * random()) + 0.01), ad.adId);
      expect(after).toBeLessThanOrEqual(before);
    }
  });

  it('GSP charges the least bid that keeps the slot: a micro more keeps it, two less lose it', () => {
    const random = seeded(24);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomUserMarket(random);
      for (const w of runGsp(input).winners) {
        const over = Math.min(w.bid, w.price + 0.000001);
        expect(slotOf(withBid(input, w.adId, over), w.adId)).toBe(w.slot);
        const under = w.price - 0.000002;
        if (under > 0 && w.price < w.bid)
          expect(slotOf(withBid(input, w.adId, under), w.adId)).toBeGreaterThan(w.slot);
      }
    }
  });

  it('with the weights at their defaults, gives the prices of the advertiser value alone', () => {
    const random = seeded(25);
    for (let round = 0; round < ROUNDS; round++) {
      const input = randomUserMarket(random);
      const plain = { ...input, weights: DEFAULT_UTILITY_WEIGHTS };
      const bare = { ...randomMarketOf(input), weights: undefined };
      for (const mechanism of PRICING_MECHANISMS) {
        expect(runAuction(mechanism, plain).winners).toEqual(runAuction(mechanism, bare).winners);
      }
    }
  });
});

/** The market without pHide, scales or exposure. */
function randomMarketOf(input: AuctionInput): AuctionInput {
  return {
    candidates: input.candidates.map(({ pHide: _pHide, ...c }) => c),
    slots: input.slots,
    reservePerImpression: input.reservePerImpression,
    examination: input.examination,
  };
}
