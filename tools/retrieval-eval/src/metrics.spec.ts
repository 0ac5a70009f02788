import { describe, expect, it } from '@jest/globals';
import { AD_INDEX_DEFAULTS } from '@adfunnel/ad-index';
import { HNSW_DEFAULTS } from './hnsw-search.js';
import { meanMetrics, meanOverlap, userMetrics } from './metrics.js';

describe('userMetrics', () => {
  it('divides hits by every relevant item and discounts them by log2 of the rank', () => {
    const m = userMetrics([5, 1, 7, 2], new Set([1, 2, 9]), 4);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
    const ideal = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(m.ndcg).toBeCloseTo(dcg / ideal, 12);
  });

  it('gives NDCG 1 to a perfect list even when there are more relevant items than K', () => {
    const m = userMetrics([1, 2], new Set([1, 2, 3, 4]), 2);
    expect(m.ndcg).toBeCloseTo(1, 12);
    expect(m.recall).toBeCloseTo(0.5, 12);
  });

  it('refuses a user with nothing relevant and a K that is not a positive integer', () => {
    expect(() => userMetrics([1], new Set(), 1)).toThrow(RangeError);
    expect(() => userMetrics([1], new Set([1]), 0)).toThrow('K must be a positive integer');
  });
});

describe('meanMetrics and meanOverlap', () => {
  it('averages over users at each K from row-major top lists', () => {
    const top = Int32Array.from([1, 2, 3, 4, 5, 6]);
    const [at1, at3] = meanMetrics(top, 3, [new Set([1]), new Set([6])], [1, 3]);
    expect(at1.recall).toBeCloseTo(0.5, 12);
    expect(at3.recall).toBeCloseTo(1, 12);
    expect(at3.ndcg).toBeCloseTo((1 + 1 / Math.log2(4)) / 2, 12);
    expect(() => meanMetrics(top, 3, [new Set([1])], [1])).toThrow('expected 1 users x 3');
    expect(() => meanMetrics(top, 3, [new Set([1]), new Set([2])], [4])).toThrow(
      'deeper than the ranked lists',
    );
  });

  it('measures the share of the exact top K an approximate list found, order aside', () => {
    expect(meanOverlap([2, 1, 9, 3, 4, 5], [1, 2, 3, 3, 4, 5], 3, 3)).toBeCloseTo((2 / 3 + 1) / 2, 12);
    expect(meanOverlap([2, 1, 9], [1, 2, 3], 3, 2)).toBe(1);
    // -1 pads both lists past a user's last rankable item: the real entries count.
    expect(meanOverlap([4, -1], [4, -1], 2, 2)).toBe(1);
  });
});

describe('HNSW parameters', () => {
  it('are those serving builds its ad index with', () => {
    expect(HNSW_DEFAULTS).toEqual({
      m: AD_INDEX_DEFAULTS.m,
      efConstruction: AD_INDEX_DEFAULTS.efConstruction,
      efSearch: AD_INDEX_DEFAULTS.efSearch,
    });
  });
});
