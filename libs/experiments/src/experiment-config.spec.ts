import { describe, expect, it } from '@jest/globals';
import {
  ExperimentConfigError,
  overriddenParameters,
  parseExperimentConfig,
  parseExperimentConfigJson,
  quotaStringProblem,
} from './experiment-config.js';

const valid = {
  holdout: { salt: 'holdout-2026', share: 0.05 },
  launches: [{ name: 'vcg-search', overrides: { mechanism: 'vcg' } }],
  layers: [
    {
      name: 'auction',
      salt: 'auction-1',
      experiments: [
        {
          name: 'hide-weight',
          arms: [
            { name: 'control', share: 0.25 },
            { name: 'treatment', share: 0.25, overrides: { utilityWeights: { hide: 2 } } },
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
      unit: 'request',
      experiments: [
        {
          name: 'interest-source',
          arms: [
            { name: 'control', share: 0.5 },
            {
              name: 'treatment',
              share: 0.5,
              overrides: {
                retrievalQuotas: { home_feed: 'interest:0.45,ann:0.15,trending:0.15,popular:0.15' },
                rankingModelVersion: '20261207-eae89cb9',
                slots: 4,
              },
            },
          ],
        },
      ],
    },
  ],
};

function problems(value: unknown): string[] {
  try {
    parseExperimentConfig(value);
  } catch (error) {
    if (error instanceof ExperimentConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

const clone = (): typeof valid => structuredClone(valid);

describe('experiment config', () => {
  it('parses a valid config from JSON, defaulting the unit to user and overrides to none', () => {
    const config = parseExperimentConfigJson(JSON.stringify(valid));
    expect(config.layers[0].unit).toBe('user');
    expect(config.layers[1].unit).toBe('request');
    expect(config.layers[0].experiments[0].arms[0].overrides).toEqual({});
    expect(config.launches[0].overrides.mechanism).toBe('vcg');
  });

  it("names the path when an experiment's arms sum to more than 1", () => {
    const config = clone();
    config.layers[1].experiments[0].arms[1].share = 0.7;
    expect(problems(config)).toEqual(['layers[1].experiments[0].arms: shares sum to 1.2, more than 1']);
  });

  it('rejects a layer whose experiments together take more than all of its traffic', () => {
    const config = clone();
    config.layers[0].experiments[1].arms[0].share = 0.6;
    expect(problems(config)).toEqual([
      "layers[0].experiments: the experiments' shares sum to 1.1, more than 1",
    ]);
  });

  it('rejects two layers overriding the same parameter, naming it', () => {
    const config = clone();
    (config.layers[1].experiments[0].arms[1].overrides as Record<string, unknown>).utilityWeights = {
      hide: 1,
    };
    expect(problems(config)).toEqual([
      'layers[1]: overrides utilityWeights.hide, which layers[0] ("auction") overrides too; layers must override disjoint parameters',
    ]);
  });

  it('lets two layers override different utility weights', () => {
    const config = clone();
    (config.layers[1].experiments[0].arms[1].overrides as Record<string, unknown>).utilityWeights = {
      fatigue: 1,
    };
    expect(problems(config)).toEqual([]);
  });

  it('reports every problem at once: a share finer than a bucket, a shared salt, duplicate names', () => {
    const config = clone();
    config.layers[1].salt = 'holdout-2026';
    config.layers[1].name = 'auction';
    config.layers[0].experiments[1].name = 'hide-weight';
    config.layers[0].experiments[0].arms[1].name = 'control';
    config.layers[0].experiments[0].arms[0].share = 0.12345;
    expect(problems(config)).toEqual([
      'layers[0].experiments[0].arms[0].share: must be a multiple of 1/10000 (a whole number of buckets)',
      'layers[0].experiments[0].arms[1].name: "control" names two arms',
      'layers[0].experiments[1].name: "hide-weight" is also layers[0].experiments[0]\'s name',
      'layers[1].salt: is the same as holdout.salt: layers with one salt would not be independent',
      'layers[1].name: "auction" is also layers[0]\'s name',
    ]);
  });

  it("validates override values with the contracts' schemas", () => {
    const config = clone();
    const overrides = config.layers[0].experiments[0].arms[1].overrides as Record<string, unknown>;
    overrides.utilityWeights = { advertiserValue: 0, typo: 1 };
    overrides.mechanism = 'second_price';
    overrides.slots = 11;
    overrides.retrievalQuotas = { home_feed: 'interest:0.6,ann:0.6', search: 'exact:1', feed: 'ann:1' };
    const found = problems(config);
    expect(found).toEqual(
      expect.arrayContaining([
        'layers[0].experiments[0].arms[1].overrides.utilityWeights: Unrecognized key: "typo"',
        expect.stringMatching(
          /^layers\[0\]\.experiments\[0\]\.arms\[1\]\.overrides\.utilityWeights\.advertiserValue: /,
        ),
        expect.stringMatching(/^layers\[0\]\.experiments\[0\]\.arms\[1\]\.overrides\.mechanism: /),
        expect.stringMatching(/^layers\[0\]\.experiments\[0\]\.arms\[1\]\.overrides\.slots: /),
        'layers[0].experiments[0].arms[1].overrides.retrievalQuotas.home_feed: the shares sum to 1.2, more than 1',
        expect.stringMatching(
          /^layers\[0\]\.experiments\[0\]\.arms\[1\]\.overrides\.retrievalQuotas\.search: "exact" is not a quota source/,
        ),
      ]),
    );
    expect(found.some((p) => p.includes('retrievalQuotas') && p.includes('feed'))).toBe(true);
  });

  it('rejects a holdout above half the traffic and two launches of one parameter', () => {
    const config = clone();
    config.holdout.share = 0.6;
    config.launches.push({ name: 'gsp-again', overrides: { mechanism: 'gsp' } });
    expect(problems(config)).toEqual([
      expect.stringMatching(/^holdout\.share: /),
      'launches[1]: overrides mechanism, which launches[0] overrides too',
    ]);
  });

  it('says when the text is not JSON', () => {
    expect(() => parseExperimentConfigJson('{layers:')).toThrow(
      /^invalid experiment config: \(root\): not JSON/,
    );
  });

  it('checks retrieval quota strings like apps/retrieval does', () => {
    expect(quotaStringProblem('interest:0.45,ann:0.15,trending:0.15,popular:0.15')).toBeUndefined();
    expect(quotaStringProblem('')).toMatch(/names no source/);
    expect(quotaStringProblem('ann')).toBe('"ann" is not a <source>:<share> pair');
    expect(quotaStringProblem('ann:0.5,ann:0.2')).toBe('ann is named twice');
    expect(quotaStringProblem('ann:0')).toBe('ann has share "0", not in (0, 1]');
  });

  it('lists overridden parameters one per leaf', () => {
    expect(
      overriddenParameters({
        mechanism: 'vcg',
        utilityWeights: { hide: 1, fatigue: 2 },
        retrievalQuotas: { search: 'lexical:1' },
        slots: 2,
      }),
    ).toEqual([
      'mechanism',
      'utilityWeights.hide',
      'utilityWeights.fatigue',
      'retrievalQuotas.search',
      'slots',
    ]);
  });

  it('lets at most one layer split budgets, and defaults to none', () => {
    const layer = (name: string, budgetSplit: boolean) => ({
      name,
      salt: `${name}-salt`,
      budgetSplit,
      experiments: [{ name: `${name}-x`, arms: [{ name: 'a', share: 0.5 }] }],
    });
    expect(parseExperimentConfig({ layers: [layer('one', false)] }).layers[0].budgetSplit).toBe(false);
    expect(
      parseExperimentConfig({ layers: [layer('one', true), layer('two', false)] }).layers[0].budgetSplit,
    ).toBe(true);
    expect(() => parseExperimentConfig({ layers: [layer('one', true), layer('two', true)] })).toThrow(
      /layers\[1\]\.budgetSplit: layers\[0\] \("one"\) already splits budgets/,
    );
  });
});
