import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVICES, type AuctionRequest } from '@adfunnel/contracts';
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
      for (const device of DEVICES) {
        expect(rules.byDevice[device].examination.slice(0, 4)).toEqual([1, 0.75, 0.6, 0.5]);
        expect(rules.byDevice[device]).toMatchObject({
          adLoad: 10,
          minSpacing: 1,
          diversity: { maxPerAdvertiser: 1, maxPerCategory: 10 },
        });
      }
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
    expect(sut.search).toMatchObject({ mechanism: 'first_price', reservePerImpression: 0.0015 });
    expect(sut.search.byDevice.mobile.examination).toEqual([1, 0.8]);
    expect(sut.home_feed).toMatchObject({ mechanism: 'gsp', reservePerImpression: 0.0005 });
    expect(sut.related_items.mechanism).toBe('vcg');
    expect(sut.related_items.byDevice.tablet.examination).toEqual([1, 0.5, 0.25]);
    expect(sut.search.floors).toEqual({ minPCtr: 0.001, minUtility: 0.0002 });
  });

  it('resolves allocation settings surface.device first, then surface, then global', () => {
    const sut = surfaceAuctionRules(
      parseConfig(AuctionConfigSchema, {
        AUCTION_EXAMINATION_BY_SURFACE: 'search:1|0.6,search.mobile:1|0.4',
        AUCTION_AD_LOAD: '4',
        AUCTION_AD_LOAD_BY_SURFACE: 'home_feed:2,home_feed.mobile:1',
        AUCTION_AD_SPACING_BY_SURFACE: 'home_feed:3',
        AUCTION_MAX_ADS_PER_ADVERTISER: '2',
        AUCTION_MAX_ADS_PER_CATEGORY_BY_SURFACE: 'search.desktop:1',
      }),
    );
    expect(sut.search.byDevice.mobile.examination).toEqual([1, 0.4]);
    expect(sut.search.byDevice.desktop.examination).toEqual([1, 0.6]);
    expect(sut.home_feed.byDevice.mobile).toMatchObject({ adLoad: 1, minSpacing: 3 });
    expect(sut.home_feed.byDevice.tablet).toMatchObject({ adLoad: 2, minSpacing: 3 });
    expect(sut.search.byDevice.tablet).toMatchObject({ adLoad: 4, minSpacing: 1 });
    expect(sut.search.byDevice.desktop.diversity).toEqual({ maxPerAdvertiser: 2, maxPerCategory: 1 });
    expect(sut.search.byDevice.mobile.diversity).toEqual({ maxPerAdvertiser: 2, maxPerCategory: 10 });
  });

  it('reads examination curves from AUCTION_EXAMINATION_FILE where the environment names none', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'examination-')), 'examination.json');
    writeFileSync(file, JSON.stringify({ search: [1, 0.7], 'search.mobile': [1, 0.5], home_feed: [1, 0.9] }));
    const sut = surfaceAuctionRules(
      parseConfig(AuctionConfigSchema, {
        AUCTION_EXAMINATION_FILE: file,
        AUCTION_EXAMINATION_BY_SURFACE: 'home_feed:1|0.2',
      }),
    );
    expect(sut.search.byDevice.mobile.examination).toEqual([1, 0.5]);
    expect(sut.search.byDevice.tablet.examination).toEqual([1, 0.7]);
    expect(sut.home_feed.byDevice.mobile.examination).toEqual([1, 0.2]);
    expect(sut.related_items.byDevice.mobile.examination.slice(0, 2)).toEqual([1, 0.75]);
  });

  it('refuses an examination file that is missing or holds a bad curve, naming the file and the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'examination-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ 'search.phone': [1] }));
    expect(() => parseConfig(AuctionConfigSchema, { AUCTION_EXAMINATION_FILE: bad })).toThrow(
      `AUCTION_EXAMINATION_FILE: ${bad}: "search.phone" is not <surface>[.<device>]`,
    );
    writeFileSync(bad, JSON.stringify({ search: [1, 1.2] }));
    expect(() => parseConfig(AuctionConfigSchema, { AUCTION_EXAMINATION_FILE: bad })).toThrow(
      'search: examination[1] must be a probability in (0, 1], got 1.2',
    );
    expect(() =>
      parseConfig(AuctionConfigSchema, { AUCTION_EXAMINATION_FILE: join(dir, 'absent.json') }),
    ).toThrow('cannot read a JSON examination file');
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
    [
      'AUCTION_AD_LOAD_BY_SURFACE',
      'search.watch:1',
      'AUCTION_AD_LOAD_BY_SURFACE: expected <surface>[.<device>]:<ads> pairs separated by commas, surfaces among home_feed, search, related_items, devices among mobile, desktop, tablet; "search.watch:1" is not one',
    ],
    ['AUCTION_AD_LOAD', '0', 'AUCTION_AD_LOAD: expected an integer from 1 to 10 (ads per answer), got "0"'],
    [
      'AUCTION_AD_SPACING_BY_SURFACE',
      'home_feed:0',
      'home_feed: expected an integer from 1 to 100 (feed positions)',
    ],
    [
      'AUCTION_MAX_ADS_PER_ADVERTISER_BY_SURFACE',
      'search.mobile:1.5',
      'search.mobile: expected an integer from 1 to 10 (ads per advertiser)',
    ],
    ['AUCTION_MAX_ADS_PER_CATEGORY', '11', 'AUCTION_MAX_ADS_PER_CATEGORY: expected an integer from 1 to 10'],
    ['AUCTION_MIN_PCTR', '1.5', 'AUCTION_MIN_PCTR: expected a probability in [0, 1], got "1.5"'],
  ])('refuses %s=%s saying what was wrong', (variable, value, message) => {
    expect(() => parseConfig(AuctionConfigSchema, { [variable]: value })).toThrow(message);
  });
});
