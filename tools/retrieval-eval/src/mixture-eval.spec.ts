import { describe, expect, it } from '@jest/globals';
import { TOPIC_COUNT } from '@adfunnel/features';
import { DEMO_MARKETPLACE, userAt } from '@adfunnel/simulator';
// The share the simulator's traffic driver draws organic engagements with: restated by mixture-eval
// (tools/sim is an app), checked here.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ORGANIC_INTEREST_SHARE as SIM_ORGANIC_INTEREST_SHARE } from '../../sim/src/traffic-driver.js';
import {
  ORGANIC_INTEREST_SHARE,
  evaluateMixture,
  inferredAffinity,
  pearson,
  recallAtK,
  seededRanks,
  topK,
} from './mixture-eval.js';

describe('pearson', () => {
  it('is 1 for a positive affine image, -1 for a negative one, 0 for a constant series', () => {
    const x = [1, 2, 3, 5, 8];
    expect(
      pearson(
        x,
        x.map((v) => 3 * v + 1),
      ),
    ).toBeCloseTo(1, 12);
    expect(
      pearson(
        x,
        x.map((v) => -v),
      ),
    ).toBeCloseTo(-1, 12);
    expect(pearson(x, [4, 4, 4, 4, 4])).toBe(0);
  });

  it('matches a hand-computed value', () => {
    // Deviations (-1, 0, 1) and (-1, 1, 0): sxy 1, sxx 2, syy 2.
    expect(pearson([1, 2, 3], [2, 4, 3])).toBeCloseTo(0.5, 12);
  });

  it('rejects series of different lengths', () => {
    expect(() => pearson([1, 2], [1])).toThrow(RangeError);
  });
});

describe('topK and recallAtK', () => {
  it('ranks best first and breaks ties by index, or by the given ranks', () => {
    expect(Array.from(topK([0.1, 0.5, 0.5, 0.9], 3))).toEqual([3, 1, 2]);
    expect(Array.from(topK([0.1, 0.5, 0.5, 0.9], 3, [0, 2, 1, 3]))).toEqual([3, 2, 1]);
    expect(Array.from(topK([1, 2], 5))).toEqual([1, 0]);
  });

  it('is the share of the true top K the estimate top K holds', () => {
    const truth = [5, 4, 3, 2, 1];
    expect(recallAtK([5, 4, 3, 2, 1], truth, 2)).toBe(1);
    expect(recallAtK([1, 2, 3, 4, 5], truth, 2)).toBe(0);
    expect(recallAtK([5, 0, 4, 0, 0], truth, 2)).toBe(0.5);
    expect(() => recallAtK([1, 2], [1, 2], 3)).toThrow(RangeError);
    expect(() => recallAtK([1, 2], [1, 2], 0)).toThrow(RangeError);
  });

  it('seededRanks is a permutation, the same for one seed', () => {
    const r = seededRanks(50, 3);
    expect([...r].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(seededRanks(50, 3))).toEqual(Array.from(r));
  });
});

describe('inferredAffinity', () => {
  it('draws the share of organic engagements the simulator draws', () => {
    expect(ORGANIC_INTEREST_SHARE).toBe(SIM_ORGANIC_INTEREST_SHARE);
  });

  it('is the affinity serving reads: a distribution, uniform without engagements, led by the drawn categories', () => {
    const user = userAt(DEMO_MARKETPLACE, 3);
    expect(inferredAffinity(user, 3, 0, 1)).toEqual(new Array(TOPIC_COUNT).fill(0));
    const a = inferredAffinity(user, 3, 40, 1);
    expect(a.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
    let top = 0;
    for (let k = 1; k < TOPIC_COUNT; k++) if (user.interests[k] > user.interests[top]) top = k;
    expect(a[top]).toBeGreaterThan(1 / TOPIC_COUNT);
    expect(inferredAffinity(user, 3, 40, 1)).toEqual(a);
  });
});

describe('evaluateMixture on a small catalog', () => {
  const report = evaluateMixture({
    spec: { ...DEMO_MARKETPLACE, ads: 1500 },
    users: 40,
    ks: [100, 10],
    engagements: 6,
    seed: 1,
  });
  const row = (estimator: string, setting: string) =>
    report.rows.find((r) => r.estimator === estimator && r.setting === setting)!;

  it('reports every estimator under both affinities', () => {
    expect(report.rows).toHaveLength(6);
    for (const r of report.rows) {
      expect(r.pearson).toBeGreaterThan(-1);
      expect(r.pearson).toBeLessThanOrEqual(1);
      expect(Object.keys(r.recall).map(Number)).toEqual([10, 100]);
    }
  });

  it('ranks the truly liked ads better by the decoded mixture than by the declared category', () => {
    for (const setting of ['true', 'inferred']) {
      expect(row('mixture', setting).recall[10]).toBeGreaterThan(row('declared', setting).recall[10] + 0.1);
      expect(row('mixture', setting).recall[100]).toBeGreaterThan(row('declared', setting).recall[100]);
      expect(row('mixture', setting).pearson).toBeGreaterThan(row('declared', setting).pearson);
    }
    // True interests are the upper bound of what a handful of engagements tell.
    expect(row('mixture', 'true').recall[100]).toBeGreaterThan(row('mixture', 'inferred').recall[100]);
  });
});
