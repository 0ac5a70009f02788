import type { AuctionRequest } from '@adfunnel/contracts';
import { parseConfig } from '@adfunnel/platform';
import { describe, expect, it } from '@jest/globals';
import { AuctionConfigSchema } from './config.js';
import { mechanismFor, surfaceAuctionRules } from './surface-auction-rules.js';

describe(surfaceAuctionRules.name, () => {
  it('defaults every surface to GSP, examination 1, 0.75, 0.6, 0.5, ..., the 0.50 CPM reserve and no quality floor', () => {
    const sut = surfaceAuctionRules(parseConfig(AuctionConfigSchema, {}));
    for (const rules of Object.values(sut)) {
      expect(rules).toMatchObject({
        mechanism: 'gsp',
        reservePerImpression: 0.0005,
        floors: { minPCtr: 0, minUtility: 0 },
      });
      expect(rules.examination.slice(0, 4)).toEqual([1, 0.75, 0.6, 0.5]);
    }
  });

  it('lets a surface have its own mechanism, reserve and examination, the rest keeping the global ones', () => {
    const sut = surfaceAuctionRules(
      parseConfig(AuctionConfigSchema, {
        AUCTION_MECHANISM: 'vcg',
        AUCTION_MECHANISM_BY_SURFACE: 'search:first_price, home_feed:gsp',
        AUCTION_RESERVE_CPM_BY_SURFACE: 'search:1.5',
        AUCTION_EXAMINATION: '1,0.8',
        AUCTION_EXAMINATION_BY_SURFACE: 'related_items:1|0.5|0.25',
        AUCTION_MIN_PCTR: '0.001',
        AUCTION_MIN_UTILITY_CPM: '0.2',
      }),
    );
    expect(sut.search).toMatchObject({
      mechanism: 'first_price',
      reservePerImpression: 0.0015,
      examination: [1, 0.8],
    });
    expect(sut.home_feed).toMatchObject({ mechanism: 'gsp', reservePerImpression: 0.0005 });
    expect(sut.related_items).toMatchObject({ mechanism: 'vcg', examination: [1, 0.5, 0.25] });
    expect(sut.search.floors).toEqual({ minPCtr: 0.001, minUtility: 0.0002 });
  });

  it('prefers the mechanism a request names', () => {
    const rules = surfaceAuctionRules(parseConfig(AuctionConfigSchema, {})).search;
    const request: AuctionRequest = {
      requestId: 'r',
      deadlineAt: 0,
      surface: 'search',
      device: 'mobile',
      slots: 1,
      adIds: [],
    };
    expect(mechanismFor(request, rules)).toBe('gsp');
    expect(mechanismFor({ ...request, mechanism: 'vcg' }, rules)).toBe('vcg');
  });

  it.each([
    ['AUCTION_MECHANISM', 'second', 'AUCTION_MECHANISM: expected one of gsp, vcg, first_price, got "second"'],
    [
      'AUCTION_MECHANISM_BY_SURFACE',
      'search:vcg,sidebar:gsp',
      'AUCTION_MECHANISM_BY_SURFACE: expected <surface>:<gsp|vcg|first_price> pairs separated by commas, surfaces among home_feed, search, related_items; "sidebar:gsp" is not one, got "search:vcg,sidebar:gsp"',
    ],
    ['AUCTION_MECHANISM_BY_SURFACE', 'search:vcg,search:gsp', 'search is named twice'],
    ['AUCTION_MECHANISM_BY_SURFACE', 'search:gsp2', 'search: expected one of gsp, vcg, first_price'],
    [
      'AUCTION_RESERVE_CPM_BY_SURFACE',
      'search:-1',
      'search: expected a non-negative amount of USD per 1000 impressions',
    ],
    [
      'AUCTION_EXAMINATION',
      '1,0.5,0.7',
      'AUCTION_EXAMINATION: expected examination probabilities separated by ",", starting at 1 and never increasing (examination must not increase down the page, but examination[2] = 0.7 > examination[1] = 0.5), got "1,0.5,0.7"',
    ],
    [
      'AUCTION_EXAMINATION_BY_SURFACE',
      'search:0.9|0.5',
      'search: expected examination probabilities separated by "|"',
    ],
    ['AUCTION_MIN_PCTR', '1.5', 'AUCTION_MIN_PCTR: expected a probability in [0, 1], got "1.5"'],
  ])('refuses %s=%s saying what was wrong', (variable, value, message) => {
    expect(() => parseConfig(AuctionConfigSchema, { [variable]: value })).toThrow(message);
  });
});
