import { describe, expect, it } from '@jest/globals';
import { type ArmShares, type ExperimentRequestRow, analyzeExperiments, sharesOfConfig } from './analysis.js';
import { parseExperimentConfig } from './experiment-config.js';
import { compareMeans, compareRatios, ratioEstimate, sampleRatioMismatch } from './statistics.js';

let next = 0;
function row(
  userId: string,
  label: string,
  counts: Partial<ExperimentRequestRow> = {},
): ExperimentRequestRow {
  next += 1;
  return {
    requestId: `r${next}`,
    userId,
    label,
    ads: 3,
    impressions: 3,
    clicks: 0,
    conversions: 0,
    hides: 0,
    revenue: 0,
    advertiserValue: 0,
    ...counts,
  };
}

const CONTROL = 'auction:pricing/control';
const TREATMENT = 'auction:pricing/treatment';

const SHARES: ArmShares = {
  holdout: 0.2,
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

/** Three control users, four treatment users (one with two requests), two held out. */
function sample(): ExperimentRequestRow[] {
  return [
    row('c1', CONTROL, { clicks: 1, revenue: 0.5, advertiserValue: 0.6 }),
    row('c2', CONTROL, { impressions: 2, hides: 1 }),
    row('c3', CONTROL, { clicks: 2, conversions: 1, revenue: 1, advertiserValue: 3 }),
    row('t1', TREATMENT, { clicks: 1, revenue: 0.4 }),
    row('t1', TREATMENT, { clicks: 1, revenue: 0.4 }),
    row('t2', TREATMENT),
    row('t3', TREATMENT, { impressions: 1, clicks: 1, conversions: 1, revenue: 0.7 }),
    row('t4', TREATMENT, { hides: 2 }),
    row('h1', 'holdout'),
    row('h2', 'holdout', { clicks: 1, revenue: 0.2 }),
  ];
}

describe('analyzeExperiments', () => {
  it('counts users, requests and events per arm, the user as the unit', () => {
    const report = analyzeExperiments(sample(), { shares: SHARES });
    expect(report.totals).toMatchObject({ users: 9, requests: 10, impressions: 27, clicks: 7 });
    const [layer] = report.layers;
    expect(layer.name).toBe('auction');
    const [pricing] = layer.experiments;
    expect(pricing.control).toBe('control');
    expect(pricing.arms.map((a) => [a.arm, a.share, a.totals.users, a.totals.requests])).toEqual([
      ['control', 0.5, 3, 3],
      ['treatment', 0.5, 4, 5],
    ]);
    const [control, treatment] = pricing.arms;
    expect(control.totals).toEqual({
      users: 3,
      requests: 3,
      ads: 9,
      impressions: 8,
      clicks: 3,
      conversions: 1,
      hides: 1,
      revenue: 1.5,
      advertiserValue: 3.6,
    });
    expect(control.ctr).toBeCloseTo(3 / 8, 12);
    expect(control.cvr).toBeCloseTo(1 / 3, 12);
    expect(control.hidesPerMille).toBeCloseTo(125, 9);
    expect(control.revenuePerMille).toBeCloseTo(187.5, 9);
    expect(control.perUser.revenue).toBeCloseTo(0.5, 12);
    expect(treatment.perUser.requests).toBeCloseTo(5 / 4, 12);
    expect(layer.unassignedUsers).toBe(0);
    expect(layer.usersInSeveralArms).toBe(0);
  });

  it('compares each treatment arm with control by Welch per user and the delta method for ratios', () => {
    const report = analyzeExperiments(sample(), { shares: SHARES });
    const [comparison] = report.layers[0].experiments[0].comparisons;
    expect(comparison).toMatchObject({ arm: 'treatment', control: 'control' });
    const metric = (name: string) => comparison.metrics.find((m) => m.metric === name)!;

    // clicks per user: control 1, 0, 2; treatment 2 (two requests), 0, 1, 0
    const clicks = compareMeans([1, 0, 2], [2, 0, 1, 0]);
    expect(metric('clicks').difference).toEqual(clicks.difference);
    expect(metric('clicks').relativeLift).toEqual(clicks.relativeLift);

    const ctr = compareRatios(ratioEstimate([1, 0, 2], [3, 2, 3]), ratioEstimate([2, 0, 1, 0], [6, 3, 1, 3]));
    expect(metric('ctr')).toMatchObject({ kind: 'ratio', control: 3 / 8, treatment: 3 / 13 });
    expect(metric('ctr').difference!.estimate).toBeCloseTo(ctr.difference.estimate, 12);
    expect(metric('ctr').difference!.ci[0]).toBeCloseTo(ctr.difference.ci[0], 12);
    expect(metric('ctr').difference!.ci[1]).toBeCloseTo(ctr.difference.ci[1], 12);
    expect(metric('ctr').relativeLift!.estimate).toBeCloseTo(3 / 13 / (3 / 8) - 1, 12);

    // hides per 1000 impressions: the delta method on 1000 x hides.
    const hides = compareRatios(
      ratioEstimate([0, 1000, 0], [3, 2, 3]),
      ratioEstimate([0, 0, 0, 2000], [6, 3, 1, 3]),
    );
    expect(metric('hidesPerMille').difference!.estimate).toBeCloseTo(hides.difference.estimate, 9);
    expect(metric('hidesPerMille').difference!.standardError).toBeCloseTo(hides.difference.standardError, 9);

    for (const m of comparison.metrics) {
      expect(m.unavailable).toBeUndefined();
      const { estimate, ci, pValue } = m.difference!;
      expect(ci[0]).toBeLessThanOrEqual(estimate);
      expect(ci[1]).toBeGreaterThanOrEqual(estimate);
      expect(pValue).toBeGreaterThanOrEqual(0);
      expect(pValue).toBeLessThanOrEqual(1);
    }
    expect(comparison.metrics.map((m) => m.metric)).toEqual([
      'requests',
      'impressions',
      'clicks',
      'conversions',
      'revenue',
      'advertiserValue',
      'ctr',
      'cvr',
      'hidesPerMille',
      'revenuePerMille',
    ]);
  });

  it('checks users per arm and the holdout against the configured shares', () => {
    const report = analyzeExperiments(sample(), { shares: SHARES });
    const srm = report.layers[0].srm!;
    const expected = sampleRatioMismatch([3, 4], [0.5, 0.5]);
    expect(srm).toMatchObject({
      unit: 'user',
      groups: ['pricing/control', 'pricing/treatment'],
      counts: [3, 4],
      shares: [0.5, 0.5],
      pValue: expected.pValue,
      mismatch: false,
    });
    expect(report.holdout.srm).toMatchObject({
      groups: ['holdout', 'rest'],
      counts: [2, 7],
      shares: [0.2, 0.8],
    });
    expect(report.holdout.holdout.totals).toMatchObject({ users: 2, clicks: 1 });
    expect(report.holdout.rest.totals).toMatchObject({ users: 7, requests: 8 });
    expect(report.holdout.comparison.find((m) => m.metric === 'clicks')!.difference).toEqual(
      compareMeans([0, 1], [1, 0, 2, 2, 0, 1, 0]).difference,
    );
  });

  it('flags a mismatch, counting the traffic outside every arm as its own group', () => {
    const shares: ArmShares = {
      holdout: 0,
      layers: [
        { name: 'auction', unit: 'user', arms: [{ experiment: 'pricing', arm: 'treatment', share: 0.1 }] },
      ],
    };
    const rows = [
      ...Array.from({ length: 300 }, (_, i) => row(`t${i}`, TREATMENT)),
      ...Array.from({ length: 700 }, (_, i) => row(`u${i}`, '')),
    ];
    const report = analyzeExperiments(rows, { shares });
    expect(report.layers[0].unassignedUsers).toBe(700);
    expect(report.layers[0].srm).toMatchObject({
      groups: ['pricing/treatment', '(unassigned)'],
      counts: [300, 700],
      shares: [0.1, 0.9],
      mismatch: true,
    });
    expect(report.holdout.srmUnavailable).toBe('fewer than 2 groups with a share');
    // One arm only: nothing to compare with.
    expect(report.layers[0].experiments[0]).toMatchObject({ control: 'treatment', comparisons: [] });
  });

  it('counts requests for a request-randomized layer and says which users saw several arms', () => {
    const config = parseExperimentConfig({
      layers: [
        {
          name: 'retrieval',
          salt: 's',
          unit: 'request',
          experiments: [
            {
              name: 'quotas',
              arms: [
                { name: 'a', share: 0.5 },
                { name: 'b', share: 0.5 },
              ],
            },
          ],
        },
      ],
    });
    const rows = [
      row('u1', 'retrieval:quotas/a'),
      row('u1', 'retrieval:quotas/b'),
      row('u1', 'retrieval:quotas/b'),
      row('u2', 'retrieval:quotas/a'),
    ];
    const [layer] = analyzeExperiments(rows, { shares: sharesOfConfig(config) }).layers;
    expect(layer.srm).toMatchObject({ unit: 'request', counts: [2, 2] });
    expect(layer.usersInSeveralArms).toBe(1);
    // Neither arm is named control: the first in config order is.
    expect(layer.experiments[0].control).toBe('a');
  });

  it('without shares still compares arms, the check unavailable; leaves out unreadable labels', () => {
    const report = analyzeExperiments([...sample(), row('x', 'not a label')]);
    expect(report.unreadableLabels).toBe(1);
    expect(report.layers[0].srm).toBeNull();
    expect(report.layers[0].srmUnavailable).toBe('no shares');
    expect(report.holdout.srmUnavailable).toBe('no shares');
    expect(report.layers[0].experiments[0].arms.map((a) => a.share)).toEqual([null, null]);
    expect(report.layers[0].experiments[0].comparisons[0].metrics[0].difference).not.toBeNull();
  });

  it('says why a comparison is unavailable instead of throwing', () => {
    const report = analyzeExperiments(
      [row('c1', CONTROL, { impressions: 0, ads: 1 }), row('t1', TREATMENT), row('t2', TREATMENT)],
      { shares: SHARES },
    );
    const metrics = report.layers[0].experiments[0].comparisons[0].metrics;
    expect(metrics.every((m) => m.unavailable === 'fewer than 2 users in an arm')).toBe(true);
    expect(report.layers[0].experiments[0].arms[0].ctr).toBeNull();

    const noClicks = analyzeExperiments(
      [row('c1', CONTROL), row('c2', CONTROL), row('t1', TREATMENT), row('t2', TREATMENT)],
      { shares: SHARES },
    ).layers[0].experiments[0].comparisons[0].metrics;
    expect(noClicks.find((m) => m.metric === 'cvr')!.unavailable).toBe('no clicks in an arm');
    // CTR 0 against 0: a difference of 0, no lift.
    expect(noClicks.find((m) => m.metric === 'ctr')).toMatchObject({ control: 0, relativeLift: null });
  });
});
