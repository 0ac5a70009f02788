import { describe, expect, it } from '@jest/globals';
import { bucketOf } from './assignment.js';
import {
  chiSquareSurvival,
  compareMeans,
  compareMeansCuped,
  compareRatios,
  moments,
  normalCdf,
  normalQuantile,
  ratioEstimate,
  relativeLift,
  sampleRatioMismatch,
  studentTCdf,
  studentTQuantile,
} from './statistics.js';

// ---- a seeded generator for the simulations ------------------------------------------------------

/** mulberry32: a 32-bit seeded generator, uniform in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Gamma(shape, 1): Marsaglia-Tsang, with the u^(1/shape) boost below shape 1. */
function gamma(u: () => number, shape: number): number {
  if (shape < 1) return gamma(u, shape + 1) * Math.pow(1 - u(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = gaussian(u);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    if (Math.log(1 - u()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

function beta(u: () => number, a: number, b: number): number {
  const x = gamma(u, a);
  return x / (x + gamma(u, b));
}

/** Poisson by Knuth's product of uniforms (fine for the means here, < 100). */
function poisson(u: () => number, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let p = u();
  while (p > limit) {
    k++;
    p *= u();
  }
  return k;
}

// ---- worked examples -----------------------------------------------------------------------------

describe('distributions', () => {
  it('match the tables: t 0.975 quantiles, normal, chi-square critical values', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.975, 5)).toBeCloseTo(2.570582, 5);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228139, 5);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272, 5);
    expect(studentTCdf(0, 7)).toBeCloseTo(0.5, 12);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(5.991465, 2)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(11.0705, 5)).toBeCloseTo(0.05, 5);
    expect(chiSquareSurvival(0, 3)).toBe(1);
  });
});

describe('Welch difference of means', () => {
  // R: t.test(extra ~ group, data = sleep) -> t = -1.8608, df = 17.776, p-value = 0.07939,
  // 95% CI of group1 - group2: -3.3654832 0.2054832 (here treatment - control, so the signs flip).
  const group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
  const group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

  it("reproduces R's t.test on the sleep data", () => {
    const { difference, relativeLift: lift } = compareMeans(group1, group2);
    expect(difference.estimate).toBeCloseTo(1.58, 10);
    expect(difference.statistic).toBeCloseTo(1.8608, 4);
    expect(difference.df).toBeCloseTo(17.776, 3);
    expect(difference.pValue).toBeCloseTo(0.07939, 5);
    expect(difference.ci[0]).toBeCloseTo(-0.2054832, 6);
    expect(difference.ci[1]).toBeCloseTo(3.3654832, 6);
    expect(lift.estimate).toBeCloseTo(2.33 / 0.75 - 1, 10);
  });

  it('takes moments as well as values', () => {
    expect(compareMeans(moments(group1), moments(group2)).difference).toEqual(
      compareMeans(group1, group2).difference,
    );
  });
});

describe('ratio metrics by the delta method', () => {
  it('computes R and its variance on a worked example', () => {
    // clicks 1, 0, 2, 3 on 10, 5, 20, 15 impressions: R = 6/50; s_x^2 = 5/3, s_y^2 = 125/3, s_xy = 25/3,
    // Var = (5/3 - 2 (0.12)(25/3) + 0.0144 (125/3)) / (4 * 12.5^2) = 0.0010667.
    const r = ratioEstimate([1, 0, 2, 3], [10, 5, 20, 15]);
    expect(r.ratio).toBeCloseTo(0.12, 12);
    expect(r.variance).toBeCloseTo(0.0010666666666666665, 12);
  });

  it("is the mean of per-unit ratios' variance when every unit has the same denominator", () => {
    const clicks = [0, 1, 3, 2, 0, 5];
    const r = ratioEstimate(
      clicks,
      clicks.map(() => 10),
    );
    const m = moments(clicks.map((c) => c / 10));
    expect(r.ratio).toBeCloseTo(m.mean, 12);
    expect(r.variance).toBeCloseTo(m.variance / m.n, 12);
  });

  it('compares two arms: difference and relative lift with z intervals', () => {
    const a = { n: 1000, numerator: 0, denominator: 0, ratio: 0.05, variance: 0.001 ** 2 };
    const b = { ...a, ratio: 0.055 };
    const { difference, relativeLift: lift } = compareRatios(a, b);
    expect(difference.estimate).toBeCloseTo(0.005, 12);
    expect(difference.standardError).toBeCloseTo(0.001 * Math.SQRT2, 12);
    expect(difference.ci[0]).toBeCloseTo(0.005 - 1.959964 * 0.001 * Math.SQRT2, 6);
    // Var(b/a) = var_b / a^2 + b^2 var_a / a^4 = 4e-4 + 4.84e-4.
    expect(lift.estimate).toBeCloseTo(0.1, 12);
    expect(lift.standardError).toBeCloseTo(Math.sqrt(4e-4 + 4.84e-4), 12);
    expect(relativeLift(2, 0, 3, 0).estimate).toBeCloseTo(0.5, 12);
  });

  it('refuses a ratio with no denominator', () => {
    expect(() => ratioEstimate([0, 0], [0, 0])).toThrow(/denominators sum to 0/);
  });
});

describe('CUPED', () => {
  it('takes theta = cov/var and removes all variance a linear covariate explains', () => {
    const control = { x: [1, 2, 3, 4], y: [3, 5, 7, 9] };
    const treatment = { x: [1, 2, 3, 4], y: [4, 6, 8, 10] };
    const result = compareMeansCuped(control, treatment);
    // Pooled: cov(x, y) / var(x) = 2 (y = 2x + 1 + arm): the adjusted values are constant per arm.
    expect(result.theta).toBeCloseTo(2, 12);
    expect(result.difference.estimate).toBeCloseTo(1, 12);
    expect(result.difference.standardError).toBeCloseTo(0, 12);
    expect(result.varianceReduction).toBeGreaterThan(0.9);
  });

  it('shrinks the interval by sqrt(1 - rho^2) and stays unbiased', () => {
    const u = rng(7);
    const make = (lift: number) => {
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < 5000; i++) {
        const pre = 10 + 3 * gaussian(u);
        x.push(pre);
        y.push(0.8 * pre + 1.8 * gaussian(u) + 2 + lift); // rho = 2.4 / sqrt(2.4^2 + 1.8^2) = 0.8
      }
      return { x, y };
    };
    const control = make(0);
    const treatment = make(0.1);
    const plain = compareMeans(control.y, treatment.y);
    const cuped = compareMeansCuped(control, treatment);
    expect(cuped.theta).toBeCloseTo(0.8, 1);
    expect(cuped.varianceReduction).toBeCloseTo(0.64, 1);
    const ratio = cuped.difference.standardError / plain.difference.standardError;
    expect(Math.abs(ratio - 0.6)).toBeLessThan(0.03);
    expect(Math.abs(cuped.difference.estimate - 0.1)).toBeLessThan(3 * cuped.difference.standardError);
  });
});

describe('sample-ratio mismatch', () => {
  it('gives the chi-square p-value of the counts against the shares', () => {
    // (250^2 + 250^2) / 50250 = 2.4876, p = erfc(sqrt(2.4876 / 2)) = 0.11475.
    const check = sampleRatioMismatch([50_000, 50_500], [0.5, 0.5]);
    expect(check.statistic).toBeCloseTo(2.487562, 5);
    expect(check.pValue).toBeCloseTo(0.1147493, 6);
    expect(check.mismatch).toBe(false);
  });

  it('flags a 1% shortfall at 100k units and normalizes the shares of the arms compared', () => {
    expect(sampleRatioMismatch([49_000, 51_000], [0.5, 0.5]).mismatch).toBe(true);
    const three = sampleRatioMismatch([3000, 3000, 1000], [0.3, 0.3, 0.1]);
    three.expected.forEach((e, i) => expect(e).toBeCloseTo([3000, 3000, 1000][i], 9));
    expect(three.pValue).toBeCloseTo(1, 9);
    expect(three.df).toBe(2);
  });
});

// ---- A/A -----------------------------------------------------------------------------------------

interface AaRates {
  perUserMean: number;
  deltaCtr: number;
  impressionLevel: number;
}

/**
 * Repeated A/A experiments: users with heterogeneous click rates (Beta(0.5, 9.5): mean 5%) and
 * exposure (Poisson impressions around a Gamma(2, 10) mean: 20 on average, overdispersed), split 50/50
 * by the assignment hash with a fresh salt per run. Returns the share of runs significant at 5%.
 */
function aaRates(runs: number, users: number, seed: number): AaRates {
  const u = rng(seed);
  let perUserMean = 0;
  let deltaCtr = 0;
  let impressionLevel = 0;
  for (let run = 0; run < runs; run++) {
    const arms = [
      { clicks: [] as number[], impressions: [] as number[] },
      { clicks: [] as number[], impressions: [] as number[] },
    ];
    for (let i = 0; i < users; i++) {
      const ctr = beta(u, 0.5, 9.5);
      const impressions = poisson(u, 10 * gamma(u, 2));
      let clicks = 0;
      for (let k = 0; k < impressions; k++) if (u() < ctr) clicks++;
      const arm = arms[bucketOf(`aa-${seed}-${run}`, `user-${i}`) < 5000 ? 0 : 1];
      arm.clicks.push(clicks);
      arm.impressions.push(impressions);
    }
    const [a, b] = arms;
    if (compareMeans(a.clicks, b.clicks).difference.pValue < 0.05) perUserMean++;
    const ratios = compareRatios(
      ratioEstimate(a.clicks, a.impressions),
      ratioEstimate(b.clicks, b.impressions),
    );
    if (ratios.difference.pValue < 0.05) deltaCtr++;
    // The naive test: every impression an independent Bernoulli trial (pooled two-proportion z).
    const [ca, cb, ia, ib] = [a.clicks, b.clicks, a.impressions, b.impressions].map((v) =>
      v.reduce((s, x) => s + x, 0),
    );
    const pooled = (ca + cb) / (ia + ib);
    const z = (cb / ib - ca / ia) / Math.sqrt(pooled * (1 - pooled) * (1 / ia + 1 / ib));
    if (2 * (1 - normalCdf(Math.abs(z))) < 0.05) impressionLevel++;
  }
  return {
    perUserMean: perUserMean / runs,
    deltaCtr: deltaCtr / runs,
    impressionLevel: impressionLevel / runs,
  };
}

describe('A/A', () => {
  const rates = aaRates(200, 2000, 2026);

  it('rejects at about the nominal 5% over 200 A/A runs, per-user mean and delta-method CTR', () => {
    expect(rates.perUserMean).toBeGreaterThanOrEqual(0.01);
    expect(rates.perUserMean).toBeLessThanOrEqual(0.1);
    expect(rates.deltaCtr).toBeGreaterThanOrEqual(0.01);
    expect(rates.deltaCtr).toBeLessThanOrEqual(0.1);
  });

  it("over-rejects with the impression-level test, which ignores that one user's impressions are correlated", () => {
    expect(rates.impressionLevel).toBeGreaterThan(0.15);
    expect(rates.impressionLevel).toBeGreaterThan(2 * rates.deltaCtr);
  });

  it('prints the measured rates', () => {
    // Seen in the test output, quoted in the README.
    process.stdout.write(`A/A false-positive rates over 200 runs: ${JSON.stringify(rates)}\n`);
    expect(rates).toBeDefined();
  });
});
