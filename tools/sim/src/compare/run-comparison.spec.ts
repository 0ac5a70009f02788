import { describe, expect, it } from '@jest/globals';
import type { RequestOutcomes } from '../request-outcomes.js';
import { runNames } from './compare-command.js';
import { formatComparison } from './compare-table.js';
import { bootstrapRatioDifference, compareRuns, variance, type ComparedRun } from './run-comparison.js';

/** A run whose totals are those of its per-request rows [impressions, clicks, hides, revenue]. */
function run(rows: [number, number, number, number][], seqOffset = 0): ComparedRun {
  const per: RequestOutcomes = {
    seq: rows.map((_, i) => i + seqOffset),
    impressions: rows.map((r) => r[0]),
    clicks: rows.map((r) => r[1]),
    conversions: rows.map(() => 0),
    hides: rows.map((r) => r[2]),
    revenue: rows.map((r) => r[3]),
    advertiserValue: rows.map(() => 0),
  };
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    requests: rows.length,
    impressions: sum(per.impressions),
    clicks: sum(per.clicks),
    conversions: 0,
    hides: sum(per.hides),
    revenue: { total: sum(per.revenue), CPM: 0, CPC: sum(per.revenue), CPA: 0 },
    advertiserValue: 0,
    fillRate: 1,
    engagement: {
      clicksPerRequest: null,
      hidesPerRequest: null,
      hidesPerThousandImpressions: null,
      meanFatigueMultiplier: 0.9,
      users: 1,
    },
    oracle: null,
    perRequest: per,
  };
}

const row = (c: ReturnType<typeof compareRuns>, metric: string) => c.rows.find((r) => r.metric === metric)!;

describe(compareRuns.name, () => {
  it('pairs runs of the same seqs: revenue differences 1, 2, 3 give 6 +- 1.96 sqrt(3 x 1)', () => {
    const a = run([
      [3, 1, 0, 1],
      [3, 0, 1, 2],
      [3, 1, 0, 3],
    ]);
    const b = run([
      [3, 1, 0, 2],
      [3, 0, 1, 4],
      [3, 1, 0, 6],
    ]);

    const sut = compareRuns([a, b]);

    expect(sut.pairings[1]).toEqual({ kind: 'paired', requests: 3 });
    const revenue = row(sut, 'revenue (USD)');
    expect(revenue.values).toEqual([6, 12]);
    expect(revenue.differences).toEqual([null, 6]);
    expect(revenue.intervals[1]!.low).toBeCloseTo(6 - 1.96 * Math.sqrt(3), 2);
    expect(revenue.intervals[1]!.high).toBeCloseTo(6 + 1.96 * Math.sqrt(3), 2);
    // Identical clicks request by request: a zero-width interval, though clicks vary across requests.
    expect(row(sut, 'clicks').intervals[1]).toEqual({ low: 0, high: 0 });
    expect(row(sut, 'CTR').intervals[1]).toEqual({ low: 0, high: 0 });
  });

  it('falls back to independent intervals for runs of other requests', () => {
    const a = run([
      [1, 1, 0, 1],
      [1, 0, 0, 3],
    ]);
    const b = run(
      [
        [1, 1, 0, 2],
        [1, 0, 0, 4],
      ],
      100,
    );

    const sut = compareRuns([a, b]);

    expect(sut.pairings[1]).toEqual({ kind: 'unpaired', requests: 2 });
    // sqrt(2 x var(1, 3) + 2 x var(2, 4)) = sqrt(2 x 2 + 2 x 2) = sqrt(8)
    const revenue = row(sut, 'revenue (USD)');
    expect(revenue.intervals[1]!.high - revenue.differences[1]!).toBeCloseTo(1.96 * Math.sqrt(8), 2);
  });

  it('gives no interval to figures carried only as totals, or to runs without per-request outcomes', () => {
    const a = run([[1, 0, 0, 1]]);
    const { perRequest: _dropped, ...old } = run([[1, 1, 0, 2]]);

    const sut = compareRuns([a, old, a]);

    expect(sut.pairings.map((p) => p.kind)).toEqual(['none', 'none', 'paired']);
    expect(row(sut, 'revenue (USD)').intervals).toEqual([null, null, null]);
    expect(row(sut, 'fill rate').differences).toEqual([null, 0, 0]);
    expect(row(sut, 'fill rate').intervals).toEqual([null, null, null]);
  });

  it('refuses fewer than two runs', () => {
    expect(() => compareRuns([run([[1, 0, 0, 0]])])).toThrow('compare needs at least 2 runs, got 1');
  });
});

describe(bootstrapRatioDifference.name, () => {
  it('brackets the true difference of hide rates: 40 vs 20 per 1000 impressions on 4000 requests', () => {
    // Deterministic rows: a hides on every 25th impression-row, b on every 50th.
    const a = Array.from({ length: 4000 }, (_, i) => totals(1, i % 25 === 0 ? 1 : 0));
    const b = Array.from({ length: 4000 }, (_, i) => totals(1, i % 50 === 0 ? 1 : 0));

    const sut = bootstrapRatioDifference(
      { scale: 1000, numerator: 'hides', denominator: 'impressions' },
      a,
      b,
      true,
      3,
      500,
    )!;

    expect(sut.low).toBeLessThan(-20);
    expect(sut.high).toBeGreaterThan(-20);
    expect(sut.low).toBeGreaterThan(-35);
    expect(sut.high).toBeLessThan(-5);
  });
});

describe(variance.name, () => {
  it('is the sample variance', () => {
    expect(variance([1, 2, 3, 4])).toBeCloseTo(5 / 3, 12);
    expect(variance([5])).toBe(0);
  });
});

describe(formatComparison.name, () => {
  it('prints each run, the differences from the first with their interval, and how they were paired', () => {
    const a = run([
      [3, 1, 0, 1],
      [3, 0, 1, 2],
    ]);
    const b = run([
      [3, 1, 0, 2],
      [3, 1, 0, 2],
    ]);

    const sut = formatComparison(['a.json', 'b.json'], compareRuns([a, b]));

    expect(sut).toMatch(/^ +a\.json +b\.json +b\.json - a\.json +95% CI$/m);
    expect(sut).toMatch(/^CTR +16\.67% +33\.33% +\+16\.67 pp +\[[-+]?\d+\.\d\d pp, [-+]?\d+\.\d\d pp\]$/m);
    expect(sut).toMatch(/^revenue \(USD\) +3\.00 +4\.00 +\+1\.00 +\[/m);
    expect(sut).toMatch(/^fill rate +100\.00% +100\.00% +0\.00 pp$/m);
    expect(sut).toMatch(/b\.json: paired with a\.json request by request \(2 requests of the same seqs\)/);
  });
});

describe(runNames.name, () => {
  it('names runs by file, with their directory where file names repeat', () => {
    expect(runNames(['/tmp/a/sim-before.json', '/tmp/b/sim-before.json', 'x/c.json'])).toEqual([
      'a/sim-before.json',
      'b/sim-before.json',
      'c.json',
    ]);
  });
});

function totals(impressions: number, hides: number) {
  return { impressions, clicks: 0, conversions: 0, hides, revenue: 0, advertiserValue: 0 };
}
