import { describe, expect, it } from '@jest/globals';
import type { BidType } from '@adfunnel/contracts';
import { priceInBidUnit, valuePerImpression } from './value-per-impression.js';

describe(valuePerImpression.name, () => {
  it('CPM: 2.50 per 1000 impressions = 2.50 / 1000 = 0.0025 per impression (predictions ignored)', () => {
    expect(valuePerImpression({ bidType: 'CPM', bid: 2.5, pCtr: 0.3, pCvr: 0.9 })).toBeCloseTo(0.0025, 12);
  });

  it('CPC: 0.80 per click x pCtr 0.05 = 0.04 per impression', () => {
    expect(valuePerImpression({ bidType: 'CPC', bid: 0.8, pCtr: 0.05, pCvr: 0.9 })).toBeCloseTo(0.04, 12);
  });

  it('CPA: 30 per conversion x pCtr 0.02 x pCvr 0.1 = 0.06 per impression', () => {
    expect(valuePerImpression({ bidType: 'CPA', bid: 30, pCtr: 0.02, pCvr: 0.1 })).toBeCloseTo(0.06, 12);
  });

  it('accepts the edges: a zero bid and probabilities 0 and 1', () => {
    expect(valuePerImpression({ bidType: 'CPC', bid: 0, pCtr: 1, pCvr: 0 })).toBe(0);
    expect(valuePerImpression({ bidType: 'CPA', bid: 4, pCtr: 1, pCvr: 1 })).toBe(4);
  });

  it.each([
    [{ bid: -1 }, /bid must be a finite number >= 0, got -1/],
    [{ bid: Number.NaN }, /bid must be a finite number >= 0, got NaN/],
    [{ bid: Number.POSITIVE_INFINITY }, /bid must be a finite number >= 0, got Infinity/],
    [{ pCtr: 1.2 }, /pCtr must be a probability in \[0, 1\], got 1.2/],
    [{ pCtr: -0.01 }, /pCtr must be a probability in \[0, 1\], got -0.01/],
    [{ pCvr: 2 }, /pCvr must be a probability in \[0, 1\], got 2/],
    [{ bidType: 'CPV' as BidType }, /bidType must be one of CPM, CPC, CPA, got CPV/],
  ])('rejects %o with a RangeError naming the field', (override, message) => {
    const input = { bidType: 'CPC' as BidType, bid: 1, pCtr: 0.1, pCvr: 0.1, ...override };
    expect(() => valuePerImpression(input)).toThrow(RangeError);
    expect(() => valuePerImpression(input)).toThrow(message);
  });
});

describe(priceInBidUnit.name, () => {
  it('inverts valuePerImpression: 0.001 per impression is 1.00 CPM, 0.10 per click at pCtr 0.01, 2.00 per conversion at 0.01 x 0.05', () => {
    expect(priceInBidUnit({ bidType: 'CPM', valuePerImpression: 0.001, pCtr: 0, pCvr: 0 })).toBeCloseTo(
      1,
      12,
    );
    expect(priceInBidUnit({ bidType: 'CPC', valuePerImpression: 0.001, pCtr: 0.01, pCvr: 0 })).toBeCloseTo(
      0.1,
      12,
    );
    expect(priceInBidUnit({ bidType: 'CPA', valuePerImpression: 0.001, pCtr: 0.01, pCvr: 0.05 })).toBeCloseTo(
      2,
      12,
    );
  });

  it('is 0 for a value of 0 even when the ad is never clicked, and Infinity for a positive value', () => {
    expect(priceInBidUnit({ bidType: 'CPC', valuePerImpression: 0, pCtr: 0, pCvr: 0 })).toBe(0);
    expect(priceInBidUnit({ bidType: 'CPC', valuePerImpression: 0.001, pCtr: 0, pCvr: 0 })).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});
