import type { AuctionRequest } from '@adfunnel/contracts';
import { parseConfig } from '@adfunnel/platform';
import { describe, expect, it } from '@jest/globals';
import { AuctionConfigSchema, DEFAULT_AUCTION_UTILITY_WEIGHTS } from './config.js';
import { surfaceAuctionRules, utilityWeightsFor } from './surface-auction-rules.js';
import { parseUtilityWeights } from './utility-weights-env.js';

describe(parseUtilityWeights.name, () => {
  it('reads some of the weights, by name', () => {
    expect(parseUtilityWeights('userValue=0.5, hide=2', ',')).toEqual({ value: { userValue: 0.5, hide: 2 } });
    expect(parseUtilityWeights('fatigue=0|advertiserValue=3', '|')).toEqual({
      value: { fatigue: 0, advertiserValue: 3 },
    });
    expect(parseUtilityWeights('', ',')).toEqual({ value: {} });
  });

  it('says what was wrong: an unknown name, a name twice, a weight out of range', () => {
    expect(parseUtilityWeights('quality=1', ',')).toEqual({
      problem: expect.stringContaining('names among advertiserValue, userValue, hide, fatigue'),
    });
    expect(parseUtilityWeights('quality=1', ',')).toMatchObject({
      problem: expect.stringContaining('"quality=1" is not one'),
    });
    expect(parseUtilityWeights('hide=1,hide=2', ',')).toMatchObject({
      problem: expect.stringContaining('hide is named twice'),
    });
    expect(parseUtilityWeights('hide=101', ',')).toMatchObject({
      problem: expect.stringMatching(/hide: .*100/),
    });
    expect(parseUtilityWeights('advertiserValue=0', ',')).toMatchObject({
      problem: expect.stringMatching(/advertiserValue: .*0/),
    });
    expect(parseUtilityWeights('userValue=lots', ',')).toMatchObject({
      problem: expect.stringContaining('userValue: '),
    });
  });
});

describe('utility weights in the auction config', () => {
  it('defaults to DEFAULT_AUCTION_UTILITY_WEIGHTS, and a variable naming some weights keeps the rest', () => {
    expect(parseConfig(AuctionConfigSchema, {}).AUCTION_UTILITY_WEIGHTS).toEqual(
      DEFAULT_AUCTION_UTILITY_WEIGHTS,
    );
    expect(
      parseConfig(AuctionConfigSchema, { AUCTION_UTILITY_WEIGHTS: 'hide=3' }).AUCTION_UTILITY_WEIGHTS,
    ).toEqual({ ...DEFAULT_AUCTION_UTILITY_WEIGHTS, hide: 3 });
  });

  it('defaults the scales and the exposure half-life', () => {
    expect(parseConfig(AuctionConfigSchema, {})).toMatchObject({
      AUCTION_USER_VALUE_USD_PER_CLICK: 1,
      AUCTION_HIDE_COST_USD: 2,
      AUCTION_FATIGUE_COST_USD: 1,
      AUCTION_FATIGUE_CAPACITY: 20,
      AUCTION_EXPOSURE_HALF_LIFE_MS: 3 * 3_600_000,
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => parseConfig(AuctionConfigSchema, { AUCTION_UTILITY_WEIGHTS: 'hide=-1' })).toThrow(
      /AUCTION_UTILITY_WEIGHTS: expected <name>=<weight> pairs.*hide: /,
    );
    expect(() =>
      parseConfig(AuctionConfigSchema, { AUCTION_UTILITY_WEIGHTS_BY_SURFACE: 'search:hide=1,hide=2' }),
    ).toThrow(/AUCTION_UTILITY_WEIGHTS_BY_SURFACE: expected <surface>:<name=weight\|\.\.\.> pairs/);
    expect(() =>
      parseConfig(AuctionConfigSchema, { AUCTION_UTILITY_WEIGHTS_BY_SURFACE: 'search:fatigue=x' }),
    ).toThrow(/AUCTION_UTILITY_WEIGHTS_BY_SURFACE: search: expected <name>=<weight> pairs/);
    expect(() => parseConfig(AuctionConfigSchema, { AUCTION_FATIGUE_CAPACITY: '0' })).toThrow(
      'AUCTION_FATIGUE_CAPACITY: expected a positive number of ads, got "0"',
    );
  });

  it('gives each surface the global weights with its own over them, and a request its own over those', () => {
    const rules = surfaceAuctionRules(
      parseConfig(AuctionConfigSchema, {
        AUCTION_UTILITY_WEIGHTS: 'advertiserValue=1,userValue=1,hide=1,fatigue=1',
        AUCTION_UTILITY_WEIGHTS_BY_SURFACE: 'search:hide=2|fatigue=0',
      }),
    );
    expect(rules.search.utilityWeights).toEqual({ advertiserValue: 1, userValue: 1, hide: 2, fatigue: 0 });
    expect(rules.home_feed.utilityWeights).toEqual({ advertiserValue: 1, userValue: 1, hide: 1, fatigue: 1 });
    const request = { surface: 'search', utilityWeights: { userValue: 0 } } as AuctionRequest;
    expect(utilityWeightsFor(request, rules.search)).toEqual({
      advertiserValue: 1,
      userValue: 0,
      hide: 2,
      fatigue: 0,
    });
    expect(utilityWeightsFor({ surface: 'search' } as AuctionRequest, rules.search)).toBe(
      rules.search.utilityWeights,
    );
  });
});
