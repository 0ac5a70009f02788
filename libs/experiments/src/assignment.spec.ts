import { describe, expect, it } from '@jest/globals';
import {
  assign,
  budgetSlicesOf,
  bucketOf,
  formatAssignmentLabel,
  mergeOverrides,
  murmur3,
  parseAssignmentLabel,
} from './assignment.js';
import { parseExperimentConfig } from './experiment-config.js';

const config = parseExperimentConfig({
  holdout: { salt: 'holdout-2026', share: 0.05 },
  launches: [{ name: 'vcg', overrides: { mechanism: 'vcg', slots: 3 } }],
  layers: [
    {
      name: 'auction',
      salt: 'auction-1',
      experiments: [
        {
          name: 'hide-weight',
          arms: [
            { name: 'control', share: 0.3 },
            { name: 'treatment', share: 0.3, overrides: { utilityWeights: { hide: 2 } } },
          ],
        },
        {
          name: 'first-price',
          arms: [{ name: 'treatment', share: 0.1, overrides: { mechanism: 'first_price' } }],
        },
      ],
    },
    {
      name: 'retrieval',
      salt: 'retrieval-1',
      experiments: [
        {
          name: 'interest',
          arms: [
            { name: 'control', share: 0.5 },
            {
              name: 'treatment',
              share: 0.5,
              overrides: {
                retrievalQuotas: { home_feed: 'interest:0.45,ann:0.15,trending:0.15,popular:0.15' },
              },
            },
          ],
        },
      ],
    },
    {
      name: 'load',
      salt: 'load-1',
      unit: 'request',
      experiments: [{ name: 'four-ads', arms: [{ name: 'treatment', share: 0.2, overrides: { slots: 4 } }] }],
    },
  ],
});

const N = 100_000;
const users = Array.from({ length: N }, (_, i) => `user-${i}`);
const assignments = users.map((userId, i) => assign(config, { userId, requestId: `req-${i}` }));

describe('murmur3', () => {
  it('matches the reference MurmurHash3 x86_32 test vectors', () => {
    expect(murmur3('')).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('hello')).toBe(0x248bfa47);
    expect(murmur3('The quick brown fox jumps over the lazy dog')).toBe(0x2e4ff723);
    expect(murmur3('abc')).toBe(0xb3dd93fa);
    expect(murmur3('abcd')).toBe(0x43ed676a);
  });

  it('hashes UTF-8 bytes, so a non-ASCII id has one bucket whatever its string encoding', () => {
    expect(murmur3('\u0100')).not.toBe(murmur3('\u0000'));
    expect(bucketOf('s', 'ü')).toBeLessThan(10_000);
  });
});

describe('assignment', () => {
  it('is deterministic: the same user and salt give the same bucket and arms', () => {
    expect(bucketOf('auction-1', 'user-7')).toBe(bucketOf('auction-1', 'user-7'));
    const again = users.slice(0, 1000).map((userId, i) => assign(config, { userId, requestId: `req-${i}` }));
    expect(again).toEqual(assignments.slice(0, 1000));
  });

  it('randomizes a request-unit layer by the request, a user-unit layer by the user', () => {
    const byRequest = new Set<string>();
    const byUser = new Set<string>();
    const userId = users[assignments.findIndex((a) => !a.holdout)];
    for (let r = 0; r < 200; r++) {
      const a = assign(config, { userId, requestId: `r-${r}` });
      expect(a.holdout).toBe(false);
      byRequest.add(a.arms.find((x) => x.layer === 'load')?.arm ?? '-');
      byUser.add(a.arms.find((x) => x.layer === 'retrieval')?.arm ?? '-');
    }
    expect(byRequest.size).toBe(2);
    expect(byUser.size).toBe(1);
  });

  it('keeps each arm within 1 point of its share over 100k ids, and the holdout at 5%', () => {
    const held = assignments.filter((a) => a.holdout).length / N;
    expect(Math.abs(held - 0.05)).toBeLessThan(0.01);
    const inside = assignments.filter((a) => !a.holdout);
    const share = (layer: string, label: string) =>
      inside.filter((a) => {
        const arm = a.arms.find((x) => x.layer === layer);
        return (arm ? `${arm.experiment}/${arm.arm}` : 'none') === label;
      }).length / inside.length;
    const expected: [string, string, number][] = [
      ['auction', 'hide-weight/control', 0.3],
      ['auction', 'hide-weight/treatment', 0.3],
      ['auction', 'first-price/treatment', 0.1],
      ['auction', 'none', 0.3],
      ['retrieval', 'interest/control', 0.5],
      ['retrieval', 'interest/treatment', 0.5],
      ['load', 'four-ads/treatment', 0.2],
      ['load', 'none', 0.8],
    ];
    for (const [layer, label, target] of expected) {
      expect([layer, label, Math.abs(share(layer, label) - target) < 0.01]).toEqual([layer, label, true]);
    }
  });

  it('assigns layers independently (chi-square test of the arms contingency table, bucket correlation)', () => {
    const inside = assignments.filter((a) => !a.holdout);
    const rows = ['hide-weight/control', 'hide-weight/treatment', 'first-price/treatment', 'none'];
    const cols = ['interest/control', 'interest/treatment'];
    const label = (a: (typeof inside)[number], layer: string) => {
      const arm = a.arms.find((x) => x.layer === layer);
      return arm ? `${arm.experiment}/${arm.arm}` : 'none';
    };
    const table = rows.map(() => cols.map(() => 0));
    for (const a of inside) table[rows.indexOf(label(a, 'auction'))][cols.indexOf(label(a, 'retrieval'))]++;
    const n = inside.length;
    const rowSums = table.map((r) => r[0] + r[1]);
    const colSums = cols.map((_, j) => table.reduce((s, r) => s + r[j], 0));
    let statistic = 0;
    table.forEach((r, i) =>
      r.forEach((observed, j) => {
        const expected = (rowSums[i] * colSums[j]) / n;
        statistic += (observed - expected) ** 2 / expected;
      }),
    );
    // (4 - 1) x (2 - 1) = 3 degrees of freedom: 16.266 is chi-square's 0.999 quantile (p = 0.001).
    expect(statistic).toBeLessThan(16.266);

    // The raw buckets of one user under two salts: correlation within 4 standard errors of 0.
    const x = users.map((u) => bucketOf('auction-1', u));
    const y = users.map((u) => bucketOf('retrieval-1', u));
    const mean = (v: number[]) => v.reduce((s, t) => s + t, 0) / v.length;
    const mx = mean(x);
    const my = mean(y);
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < N; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) ** 2;
      syy += (y[i] - my) ** 2;
    }
    expect(Math.abs(sxy / Math.sqrt(sxx * syy))).toBeLessThan(4 / Math.sqrt(N));
  });

  it('gives a held-out user no arm in any layer and no launch', () => {
    const held = assignments.filter((a) => a.holdout);
    expect(held.length).toBeGreaterThan(0);
    for (const a of held) {
      expect(a).toEqual({ holdout: true, arms: [], overrides: {}, label: 'holdout' });
    }
    // Every held-out user stays out whatever the request.
    const heldUser = users[assignments.findIndex((a) => a.holdout)];
    for (let r = 0; r < 50; r++)
      expect(assign(config, { userId: heldUser, requestId: `x-${r}` }).holdout).toBe(true);
  });

  it('merges the launches and the arms overrides, an arm winning on the same parameter', () => {
    const sample = assignments.find(
      (a) =>
        a.arms.some((x) => x.arm === 'treatment' && x.experiment === 'hide-weight') &&
        a.arms.some((x) => x.experiment === 'interest' && x.arm === 'treatment') &&
        a.arms.some((x) => x.experiment === 'four-ads'),
    )!;
    expect(sample.overrides).toEqual({
      mechanism: 'vcg',
      slots: 4,
      utilityWeights: { hide: 2 },
      retrievalQuotas: { home_feed: 'interest:0.45,ann:0.15,trending:0.15,popular:0.15' },
    });
    expect(sample.label).toBe(
      'auction:hide-weight/treatment,retrieval:interest/treatment,load:four-ads/treatment',
    );
    // Outside every arm (here: no layer at all), the launches alone.
    const launchesOnly = parseExperimentConfig({ launches: config.launches, layers: [] });
    const unassigned = assign(launchesOnly, { userId: 'user-1', requestId: 'r' });
    expect(unassigned).toEqual({
      holdout: false,
      arms: [],
      overrides: { mechanism: 'vcg', slots: 3 },
      label: '',
    });
  });

  it('merges utility weights and quotas leaf by leaf', () => {
    expect(
      mergeOverrides(
        { utilityWeights: { hide: 1 }, retrievalQuotas: { search: 'lexical:1' } },
        { utilityWeights: { fatigue: 2 }, retrievalQuotas: { home_feed: 'ann:1' } },
      ),
    ).toEqual({
      utilityWeights: { hide: 1, fatigue: 2 },
      retrievalQuotas: { search: 'lexical:1', home_feed: 'ann:1' },
    });
  });

  it('reads its labels back', () => {
    for (const a of assignments.slice(0, 500)) {
      const parsed = parseAssignmentLabel(a.label);
      expect(parsed.holdout).toBe(a.holdout);
      expect(a.holdout ? 'holdout' : formatAssignmentLabel(parsed.arms)).toBe(a.label);
    }
    expect(() => parseAssignmentLabel('auction/hide')).toThrow(/not layer:experiment\/arm/);
  });
});

describe('budget-split slices', () => {
  const split = parseExperimentConfig({
    holdout: { salt: 'h', share: 0.1 },
    layers: [
      { name: 'other', salt: 'o', experiments: [{ name: 'x', arms: [{ name: 'a', share: 0.5 }] }] },
      {
        name: 'load',
        salt: 'l',
        budgetSplit: true,
        experiments: [
          {
            name: 'ads',
            arms: [
              { name: 'control', share: 0.4 },
              { name: 'more', share: 0.4, overrides: { slots: 4 } },
            ],
          },
        ],
      },
    ],
  });

  it('cuts every budget into the holdout, each arm and the unassigned rest, adding up to 1', () => {
    const slices = budgetSlicesOf(split);
    expect(slices.map((s) => s.key)).toEqual(['holdout', 'load:ads/control', 'load:ads/more', 'load:rest']);
    expect(slices.map((s) => s.share)).toEqual([
      0.1,
      expect.closeTo(0.36, 12),
      expect.closeTo(0.36, 12),
      expect.closeTo(0.18, 12),
    ]);
    expect(slices.reduce((sum, s) => sum + s.share, 0)).toBeCloseTo(1, 12);
    expect(budgetSlicesOf(config)).toEqual([]);
  });

  it("gives each request its group's slice, and the slices' traffic matches their shares", () => {
    const counts = new Map<string, number>();
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const a = assign(split, { userId: `user-${i}`, requestId: `r-${i}` });
      const slice = a.budgetSlice!;
      expect(budgetSlicesOf(split)).toContainEqual(slice);
      if (a.holdout) expect(slice.key).toBe('holdout');
      else {
        const load = a.arms.find((arm) => arm.layer === 'load');
        expect(slice.key).toBe(load ? `load:ads/${load.arm}` : 'load:rest');
      }
      counts.set(slice.key, (counts.get(slice.key) ?? 0) + 1);
    }
    for (const { key, share } of budgetSlicesOf(split)) {
      // Binomial: 4 standard deviations of the share at n = 40,000 is under 0.008.
      expect(Math.abs((counts.get(key) ?? 0) / n - share)).toBeLessThan(0.008);
    }
  });

  it('gives no slice without a budget-split layer', () => {
    expect(assign(config, { userId: 'user-1', requestId: 'r' }).budgetSlice).toBeUndefined();
  });
});
