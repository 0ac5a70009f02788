import { COUNTRIES } from '@adfunnel/contracts';
import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TrendingAds, type TrendingAd, type TrendingReader } from './trending-ads.js';

/** Lists per country that a test can change, or make the next reads fail (all, or some countries'). */
class ChangingReader implements TrendingReader {
  lists: Record<string, TrendingAd[]> = {};
  failing = false;
  failingCountries = new Set<string>();
  readonly asked: string[] = [];

  trendingAds(country: string, limit: number): Promise<readonly TrendingAd[]> {
    this.asked.push(country);
    if (this.failing) return Promise.reject(new Error('connection refused'));
    if (this.failingCountries.has(country)) return Promise.reject(new Error('Command timed out'));
    return Promise.resolve((this.lists[country] ?? []).slice(0, limit));
  }
}

describe(TrendingAds.name, () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('serves the lists of the last refresh, per country, up to its limit', async () => {
    const reader = new ChangingReader();
    reader.lists = { US: [1, 2, 3].map((adId) => ({ adId, score: 10 - adId })), DE: [{ adId: 9, score: 1 }] };
    const sut = new TrendingAds(reader, 2, 60_000);

    expect(sut.top('US')).toEqual([]);
    await sut.refresh();

    expect(sut.top('US')).toEqual([
      { adId: 1, score: 9 },
      { adId: 2, score: 8 },
    ]);
    expect(sut.top('DE')).toEqual([{ adId: 9, score: 1 }]);
    expect(sut.top('GB')).toEqual([]);
  });

  it('keeps the previous lists when a refresh fails, and takes new ones when it works again', async () => {
    const reader = new ChangingReader();
    reader.lists = { US: [{ adId: 1, score: 1 }] };
    const sut = new TrendingAds(reader, 10, 60_000);
    await sut.refresh();

    reader.failing = true;
    reader.lists = { US: [{ adId: 2, score: 5 }] };
    await sut.refresh();
    expect(sut.top('US')).toEqual([{ adId: 1, score: 1 }]);

    reader.failing = false;
    await sut.refresh();
    expect(sut.top('US')).toEqual([{ adId: 2, score: 5 }]);
  });

  it('keeps the previous list of each country whose read failed, and takes the new lists of the others', async () => {
    const reader = new ChangingReader();
    reader.lists = { US: [{ adId: 1, score: 1 }], DE: [{ adId: 2, score: 1 }], FR: [{ adId: 3, score: 1 }] };
    const sut = new TrendingAds(reader, 10, 60_000);
    await sut.refresh();

    reader.failingCountries = new Set(['US', 'FR']);
    reader.lists = {
      US: [{ adId: 11, score: 5 }],
      DE: [{ adId: 12, score: 5 }],
      FR: [{ adId: 13, score: 5 }],
    };
    await sut.refresh();

    expect(sut.top('US')).toEqual([{ adId: 1, score: 1 }]);
    expect(sut.top('FR')).toEqual([{ adId: 3, score: 1 }]);
    expect(sut.top('DE')).toEqual([{ adId: 12, score: 5 }]);
  });

  it('logs a refresh whose reads failed once, with how many countries failed, not once per country', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const debug = jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const reader = new ChangingReader();
    const sut = new TrendingAds(reader, 10, 60_000);
    await sut.refresh();
    expect(warn).not.toHaveBeenCalled();

    reader.failingCountries = new Set(['US', 'FR']);
    await sut.refresh();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toBe(
      `trending ads refresh: 2 of ${COUNTRIES.length} countries failed (${COUNTRIES.filter((c) => c === 'US' || c === 'FR').join(', ')}), ` +
        'keeping their previous lists: Command timed out',
    );

    // Still failing: one line per refresh, at debug, rather than a warning every few seconds.
    reader.failing = true;
    await sut.refresh();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(debug).toHaveBeenCalledTimes(1);
    expect(debug.mock.calls[0][0]).toContain(`${COUNTRIES.length} of ${COUNTRIES.length} countries failed`);

    reader.failing = false;
    reader.failingCountries.clear();
    await sut.refresh();
    expect(log).toHaveBeenCalledWith(`trending ads refreshed again, all ${COUNTRIES.length} countries`);
    expect([warn, debug, log].map((spy) => spy.mock.calls.length)).toEqual([1, 1, 1]);
  });

  it('also refreshes a country a request named that the marketplace does not list', async () => {
    const reader = new ChangingReader();
    reader.lists = { MX: [{ adId: 4, score: 2 }] };
    const sut = new TrendingAds(reader, 10, 60_000);
    await sut.refresh();
    expect(reader.asked).not.toContain('MX');

    expect(sut.top('MX')).toEqual([]);
    await sut.refresh();

    expect(sut.top('MX')).toEqual([{ adId: 4, score: 2 }]);
  });

  it('shares one reload between concurrent refreshes', async () => {
    const reader = new ChangingReader();
    const sut = new TrendingAds(reader, 10, 60_000);

    await Promise.all([sut.refresh(), sut.refresh()]);

    expect(reader.asked.filter((c) => c === 'US')).toHaveLength(1);
  });
});
