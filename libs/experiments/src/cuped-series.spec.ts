import { describe, expect, it } from '@jest/globals';
import { type ArmShares, type ExperimentRequestRow, analyzeExperiments } from './analysis.js';
import { bucketOf } from './assignment.js';
import { compareRatios, compareRatiosCuped, ratioEstimate } from './statistics.js';

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

const SHARES: ArmShares = {
  holdout: 0,
  layers: [
    {
      name: 'auction',
      unit: 'user',
      arms: [
        { experiment: 'pricing', arm: 'control', share: 0.5 },
        { experiment: 'pricing', arm: 'treatment', share: 0.5 },
      ],
    },
  ],
};

const DAY = 86_400_000;
const START = Date.UTC(2026, 11, 1);

interface Synthetic {
  rows: ExperimentRequestRow[];
  preRows: ExperimentRequestRow[];
}

/**
 * Users with a heavy-tailed activity (requests a day, 1 to 10) and a click rate of their own (1% to
 * 30%), split 50/50 by the hash; `correlated` gives each user the same activity and click rate in the
 * pre-period, else fresh draws (a covariate that says nothing). A click earns $0.50 in control, $0.50
 * x (1 + lift) in treatment; the pre-period earns $0.50 a click for everyone.
 */
function synthetic(seed: number, users: number, { correlated = true, lift = 0 } = {}): Synthetic {
  const u = rng(seed);
  const rows: ExperimentRequestRow[] = [];
  const preRows: ExperimentRequestRow[] = [];
  let n = 0;
  const user = () => ({ activity: 1 + 19 * u() ** 3, ctr: 0.01 + 0.39 * u() ** 2 });
  const serve = (
    out: ExperimentRequestRow[],
    userId: string,
    label: string,
    who: { activity: number; ctr: number },
    from: number,
    perClick: number,
  ) => {
    const requests = poisson(u, who.activity);
    for (let r = 0; r < requests; r++) {
      let clicks = 0;
      for (let k = 0; k < 3; k++) if (u() < who.ctr) clicks++;
      out.push({
        requestId: `r${n++}`,
        userId,
        label,
        ads: 3,
        impressions: 3,
        clicks,
        conversions: 0,
        hides: 0,
        revenue: clicks * perClick,
        advertiserValue: clicks * 0.6,
        servedAt: from + Math.floor(u() * DAY),
      });
    }
  };
  for (let i = 0; i < users; i++) {
    const userId = `user-${seed}-${i}`;
    const treated = bucketOf(`cuped-${seed}`, userId) >= 5000;
    const label = `auction:pricing/${treated ? 'treatment' : 'control'}`;
    const who = user();
    serve(rows, userId, label, who, START, 0.5 * (treated ? 1 + lift : 1));
    // The pre-period: the day before, whatever label the user had then (here none).
    serve(preRows, userId, '', correlated ? who : user(), START - DAY, 0.5);
  }
  return { rows, preRows };
}

const metricOf = (report: ReturnType<typeof analyzeExperiments>, name: string) =>
  report.layers[0].experiments[0].comparisons[0].metrics.find((m) => m.metric === name)!;

describe('CUPED in the per-arm analysis', () => {
  it('shrinks the intervals of the per-user means when the pre-period predicts them, and keeps the plain ones', () => {
    const { rows, preRows } = synthetic(11, 4000, { lift: 0.2 });
    const plain = analyzeExperiments(rows, { shares: SHARES });
    const report = analyzeExperiments(rows, { shares: SHARES, preRows });
    expect(report.cuped).toEqual({
      preRequests: preRows.length,
      preUsers: new Set(preRows.map((r) => r.userId)).size,
    });
    for (const name of ['requests', 'clicks', 'revenue']) {
      const m = metricOf(report, name);
      // The plain comparison is the one without a pre-period, unchanged.
      expect(m.difference).toEqual(metricOf(plain, name).difference);
      expect(metricOf(plain, name).cuped).toBeUndefined();
      expect(m.cuped).not.toBeNull();
      expect(m.cuped!.correlation).toBeGreaterThan(0.5);
      expect(m.cuped!.ciWidthRatio).toBeLessThan(0.75);
      expect(m.cuped!.ciWidthRatio).toBeCloseTo(Math.sqrt(1 - m.cuped!.varianceReduction), 1);
      expect(m.cuped!.varianceReduction).toBeCloseTo(m.cuped!.correlation ** 2, 6);
    }
    // The true revenue difference: the treatment's clicks are the control's, paid 20% more.
    const revenue = metricOf(report, 'revenue');
    const truth = 0.2 * revenue.control!;
    expect(revenue.cuped!.difference.ci[0]).toBeLessThan(truth);
    expect(revenue.cuped!.difference.ci[1]).toBeGreaterThan(truth);
    // Requests: pre-period users with no request get 0 as their covariate, and are counted.
    const covered = revenue.cuped!.usersWithPrePeriod;
    const [control, treatment] = report.layers[0].experiments[0].arms;
    expect(covered.control).toBeLessThanOrEqual(control.totals.users);
    expect(covered.control + covered.treatment).toBeGreaterThan(
      0.8 * (control.totals.users + treatment.totals.users),
    );
    process.stdout.write(
      `CUPED CI width ratio (correlated pre-period, 4000 users): ${['requests', 'clicks', 'revenue', 'ctr']
        .map(
          (name) =>
            `${name} ${metricOf(report, name).cuped!.ciWidthRatio.toFixed(3)} (rho ${metricOf(report, name).cuped!.correlation.toFixed(3)})`,
        )
        .join(', ')}\n`,
    );
  });

  it('leaves the interval about as wide when the pre-period says nothing', () => {
    const { rows, preRows } = synthetic(12, 4000, { correlated: false });
    const report = analyzeExperiments(rows, { shares: SHARES, preRows });
    for (const name of ['requests', 'clicks', 'revenue', 'ctr']) {
      const { cuped } = metricOf(report, name);
      expect(Math.abs(cuped!.correlation)).toBeLessThan(0.1);
      expect(cuped!.ciWidthRatio).toBeGreaterThan(0.97);
      expect(cuped!.ciWidthRatio).toBeLessThan(1.02);
    }
  });

  it('stays unbiased in an A/A with a pre-period, its intervals covering 0 about 95% of the time', () => {
    const runs = 150;
    const estimates: number[] = [];
    const ctrEstimates: number[] = [];
    let covered = 0;
    let ctrCovered = 0;
    let widthRatio = 0;
    for (let run = 0; run < runs; run++) {
      const { rows, preRows } = synthetic(1000 + run, 400);
      const report = analyzeExperiments(rows, { shares: SHARES, preRows });
      const revenue = metricOf(report, 'revenue').cuped!;
      const ctr = metricOf(report, 'ctr').cuped!;
      estimates.push(revenue.difference.estimate);
      ctrEstimates.push(ctr.difference.estimate);
      if (revenue.difference.ci[0] <= 0 && revenue.difference.ci[1] >= 0) covered++;
      if (ctr.difference.ci[0] <= 0 && ctr.difference.ci[1] >= 0) ctrCovered++;
      widthRatio += revenue.ciWidthRatio / runs;
    }
    for (const values of [estimates, ctrEstimates]) {
      const mean = values.reduce((s, v) => s + v, 0) / runs;
      const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (runs - 1));
      expect(Math.abs(mean)).toBeLessThan((3 * sd) / Math.sqrt(runs));
    }
    expect(covered / runs).toBeGreaterThan(0.9);
    expect(covered / runs).toBeLessThanOrEqual(0.99);
    expect(ctrCovered / runs).toBeGreaterThan(0.9);
    expect(widthRatio).toBeLessThan(0.85);
  });

  it('compares a ratio by its linearization: no pre-period change leaves the delta method as it was', () => {
    const control = { x: [1, 0, 2, 1], y: [3, 2, 3, 4], xPre: [0, 0, 0, 0], yPre: [1, 1, 1, 1] };
    const treatment = { x: [2, 0, 1, 0], y: [6, 3, 1, 3], xPre: [0, 0, 0, 0], yPre: [1, 1, 1, 1] };
    const cuped = compareRatiosCuped(control, treatment);
    const plain = compareRatios(ratioEstimate(control.x, control.y), ratioEstimate(treatment.x, treatment.y));
    expect(cuped.theta).toBe(0);
    expect(cuped.difference.estimate).toBeCloseTo(plain.difference.estimate, 12);
    expect(cuped.difference.standardError).toBeCloseTo(plain.difference.standardError, 12);
    expect(() => compareRatiosCuped(control, { ...treatment, yPre: [0, 0, 0, 0] })).toThrow(
      /treatment: the pre-period denominators sum to 0/,
    );
  });

  it('says why CUPED is unavailable: no pre-period data for either arm, too few users', () => {
    const { rows } = synthetic(13, 200);
    const report = analyzeExperiments(rows, { shares: SHARES, preRows: [] });
    expect(metricOf(report, 'revenue')).toMatchObject({
      cuped: null,
      cupedUnavailable: 'no user of either arm has a request in the pre-period',
    });
    expect(metricOf(report, 'ctr')).toMatchObject({
      cuped: null,
      cupedUnavailable: 'no pre-period impressions in an arm',
    });
    expect(report.holdout.comparison.every((m) => m.cuped === null)).toBe(true);
  });
});

describe('the per-day series', () => {
  const row = (
    userId: string,
    label: string,
    servedAt: number | undefined,
    clicks: number,
  ): ExperimentRequestRow => ({
    requestId: `${userId}-${servedAt}`,
    userId,
    label,
    ads: 2,
    impressions: 2,
    clicks,
    conversions: 0,
    hides: 0,
    revenue: clicks,
    advertiserValue: clicks,
    ...(servedAt === undefined ? {} : { servedAt }),
  });
  const C = 'auction:pricing/control';
  const rows = [
    row('a', C, START + 1000, 1),
    row('a', C, START + 2000, 0),
    row('b', C, START + 3 * 3_600_000, 2),
    row('a', C, START + DAY + 5, 1),
    row('c', C, undefined, 1),
  ];

  it('buckets each arm by the UTC day of servedAt, the user as the unit within the day, with normal intervals', () => {
    const report = analyzeExperiments(rows, { shares: SHARES });
    expect(report.series).toEqual({ bucket: 'day', bucketMs: DAY, rowsWithoutTime: 1 });
    const [control] = report.layers[0].experiments[0].arms;
    expect(control.series.map((p) => [p.start, p.users, p.requests, p.impressions, p.clicks])).toEqual([
      [START, 2, 3, 6, 3],
      [START + DAY, 1, 1, 2, 1],
    ]);
    const [first, second] = control.series;
    // Per user on the first day: a 2 requests and $1, b 1 request and $2.
    expect(first.perUser.requests.mean).toBe(1.5);
    expect(first.perUser.revenue.mean).toBe(1.5);
    // sd of (1, 2) is 0.7071, se 0.5: 1.5 +- 1.96 x 0.5.
    expect(first.perUser.revenue.ci![0]).toBeCloseTo(1.5 - 1.959964 * 0.5, 5);
    expect(first.perUser.revenue.ci![1]).toBeCloseTo(1.5 + 1.959964 * 0.5, 5);
    expect(first.ctr!.mean).toBeCloseTo(0.5, 12);
    expect(first.ctr!.ci).not.toBeNull();
    // One user: the mean without an interval.
    expect(second.perUser.revenue).toEqual({ mean: 1, ci: null });
    // The treatment arm, configured but unseen, has no buckets.
    expect(report.layers[0].experiments[0].arms[1].series).toEqual([]);
    expect(report.holdout.rest.series.length).toBe(2);
  });

  it('buckets by the hour on request', () => {
    const report = analyzeExperiments(rows, { shares: SHARES, bucket: 'hour' });
    expect(report.series.bucketMs).toBe(3_600_000);
    expect(report.layers[0].experiments[0].arms[0].series.map((p) => p.start)).toEqual([
      START,
      START + 3 * 3_600_000,
      START + DAY,
    ]);
    expect(() => analyzeExperiments(rows, { bucket: 'week' as never })).toThrow(
      'bucket must be hour or day, got "week"',
    );
  });
});
