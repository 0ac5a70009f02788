import { describe, expect, it } from '@jest/globals';
import type { AuctionCandidate } from './auction-outcome.js';
import { runGsp } from './gsp.js';
import { runVcg } from './vcg.js';
import {
  criticalValue,
  DEFAULT_UTILITY_SCALES,
  DEFAULT_UTILITY_WEIGHTS,
  fatigueCost,
  utility,
  utilityContext,
  valueNeededFor,
  type UtilityWeights,
} from './utility.js';

const CPC = { bidType: 'CPC' as const, bid: 0.4, pCtr: 0.05, pCvr: 0.1 };
const ALL_ON: UtilityWeights = { advertiserValue: 1, userValue: 1, hide: 1, fatigue: 1 };

function ad(adId: number, fields: Partial<AuctionCandidate>): AuctionCandidate {
  return { adId, campaignId: adId, advertiserId: adId, ...CPC, ...fields };
}

describe(utility.name, () => {
  it('is the advertiser value alone by default: CPC 0.40 x 0.05 = 0.02', () => {
    const sut = utility(CPC);
    expect(DEFAULT_UTILITY_WEIGHTS).toEqual({ advertiserValue: 1, userValue: 0, hide: 0, fatigue: 0 });
    expect(sut.valuePerImpression).toBeCloseTo(0.02, 12);
    expect(sut.otherTerms).toBe(0);
    expect(sut.utility).toBeCloseTo(0.02, 12);
  });

  it('scales with the advertiser-value weight, and valueNeededFor inverts it: 2 x 0.02 = 0.04; utility 0.03 needs 0.015', () => {
    const weights = { ...DEFAULT_UTILITY_WEIGHTS, advertiserValue: 2 };
    const sut = utility(CPC, weights);
    expect(sut.utility).toBeCloseTo(0.04, 12);
    expect(valueNeededFor(0.03, sut, weights)).toBeCloseTo(0.015, 12);
    expect(valueNeededFor(-1, sut, weights)).toBe(0);
  });

  it('adds user value, subtracts hide and fatigue costs, each in USD per impression and weighted', () => {
    // user 0.05 x 1 = 0.05; hide 0.01 x 2 = 0.02; fatigue at 9 recent ads: 1 x 19 / 400 = 0.0475
    const context = utilityContext(DEFAULT_UTILITY_SCALES, 9);
    const weights = { advertiserValue: 1, userValue: 2, hide: 0.5, fatigue: 1 };
    const sut = utility({ ...CPC, pHide: 0.01 }, weights, context);
    expect(sut.userValue).toBeCloseTo(0.05, 12);
    expect(sut.hideCost).toBeCloseTo(0.02, 12);
    expect(sut.fatigueCost).toBeCloseTo(0.0475, 12);
    // 2 x 0.05 - 0.5 x 0.02 - 0.0475 = 0.0425
    expect(sut.otherTerms).toBeCloseTo(0.0425, 12);
    expect(sut.utility).toBeCloseTo(0.02 + 0.0425, 12);
  });

  it('has no hide term without pHide and no fatigue term when the exposure is unknown', () => {
    const sut = utility(CPC, ALL_ON, utilityContext(DEFAULT_UTILITY_SCALES, undefined));
    expect(sut.hideCost).toBe(0);
    expect(sut.fatigueCost).toBe(0);
    expect(sut.otherTerms).toBeCloseTo(0.05, 12);
  });

  it('refuses a negative weight, a pHide outside [0, 1] and a capacity of 0', () => {
    expect(() => utility(CPC, { ...ALL_ON, hide: -1 })).toThrow(
      'weights.hide must be a finite number >= 0, got -1',
    );
    expect(() => utility({ ...CPC, pHide: 1.5 }, ALL_ON)).toThrow(
      'pHide must be a probability in [0, 1], got 1.5',
    );
    expect(() => utilityContext({ ...DEFAULT_UTILITY_SCALES, fatigueCapacity: 0 }, 1)).toThrow(
      'scales.fatigueCapacity must be a finite number > 0, got 0',
    );
  });
});

describe(fatigueCost.name, () => {
  it('is F(E + 1) - F(E) for F(E) = fatigueUsd (E / capacity)^2, growing with the exposure', () => {
    const scales = { ...DEFAULT_UTILITY_SCALES, fatigueUsd: 2, fatigueCapacity: 10 };
    const f = (e: number) => 2 * (e / 10) ** 2;
    for (const e of [0, 0.5, 3, 10, 40]) expect(fatigueCost(e, scales)).toBeCloseTo(f(e + 1) - f(e), 12);
    expect(fatigueCost(0, scales)).toBeLessThan(fatigueCost(5, scales));
    expect(() => fatigueCost(-1, scales)).toThrow('exposure must be a finite number >= 0, got -1');
  });
});

describe(criticalValue.name, () => {
  it('is the value reaching the target after the non-bid terms, never below the reserve', () => {
    const breakdown = utility(CPC, ALL_ON);
    // other terms +0.05: a target of 0.06 needs a value of 0.01; the reserve 0.015 binds instead
    expect(criticalValue(0.06, breakdown, ALL_ON, 0)).toBeCloseTo(0.01, 12);
    expect(criticalValue(0.06, breakdown, ALL_ON, 0.015)).toBe(0.015);
    expect(criticalValue(0.01, breakdown, ALL_ON, 0)).toBe(0);
  });
});

describe('second-price auctions with the user terms', () => {
  it('leaves GSP prices unchanged when only the advertiser-value weight changes', () => {
    const candidates = [
      ad(1, { bid: 1, pCtr: 0.03, pCvr: 0.05 }),
      ad(2, { bidType: 'CPM', bid: 20, pCtr: 0.01, pCvr: 0.05 }),
    ];
    const base = runGsp({ candidates, slots: 2, reservePerImpression: 0.0005 });
    const scaled = runGsp({
      candidates,
      slots: 2,
      reservePerImpression: 0.0005,
      weights: { ...DEFAULT_UTILITY_WEIGHTS, advertiserValue: 3 },
    });
    expect(scaled.winners.map((w) => [w.adId, w.price])).toEqual(base.winners.map((w) => [w.adId, w.price]));
  });

  it('ranks a likelier-hidden ad below a safer one, which pays for the gap in other terms', () => {
    // values 0.40 x 0.05 = 0.020 and 0.30 x 0.05 = 0.015; hide costs 0.02 x 2 = 0.04 and 0
    const risky = ad(1, { bid: 0.4, pHide: 0.02 });
    const safe = ad(2, { bid: 0.3, pHide: 0 });
    const input = { candidates: [risky, safe], slots: 1, reservePerImpression: 0 };
    expect(runGsp(input).winners.map((w) => w.adId)).toEqual([1]);
    const sut = runGsp({ ...input, weights: { ...DEFAULT_UTILITY_WEIGHTS, hide: 1 } });
    expect(sut.winners.map((w) => w.adId)).toEqual([2]);
    // risky, at 0.020 - 0.040 = -0.020, is worth less than the empty slot; safe pays the slot's 0
    expect(sut.winners[0].price).toBe(0);
    // with user value on, risky (0.030) is beaten by safe (0.065), which pays max(reserve, 0) per
    // impression: 0.0005 / 0.05 = 0.01 per click
    const reserved = runGsp({ ...input, reservePerImpression: 0.0005, weights: { ...ALL_ON, fatigue: 0 } });
    expect(reserved.winners[0]).toMatchObject({ adId: 2, price: 0.01 });
  });

  it('a fatigued user raises what an ad must bring, and past some exposure shows no ad', () => {
    const input = { candidates: [ad(1, { bid: 0.4 })], slots: 1, reservePerImpression: 0.0005 };
    const weights = { ...DEFAULT_UTILITY_WEIGHTS, fatigue: 1 };
    // fresh: fatigue 1 / 400 = 0.0025; the ad needs 0.0005 + 0.0025 = 0.003 per impression: 0.06 per click
    expect(runGsp({ ...input, weights, userExposure: 0 }).winners[0].price).toBeCloseTo(0.06, 6);
    expect(runVcg({ ...input, weights, userExposure: 0 }).winners[0].price).toBeCloseTo(0.06, 6);
    // at 4 recent ads: 9 / 400 = 0.0225 > 0.0195 of headroom, so the slot stays empty
    expect(runGsp({ ...input, weights, userExposure: 4 }).winners).toEqual([]);
    expect(runGsp({ ...input, weights }).winners).toHaveLength(1);
  });
});
