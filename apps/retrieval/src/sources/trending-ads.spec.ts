import { beforeAll, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TrendingAds, type TrendingAd, type TrendingReader } from './trending-ads.js';

/** Lists per country that a test can change, or make the next reads fail. */
class ChangingReader implements TrendingReader {
  lists: Record<string, TrendingAd[]> = {};
  failing = false;
  readonly asked: string[] = [];

  trendingAds(country: string, limit: number): Promise<readonly TrendingAd[]> {
    this.asked.push(country);
    if (this.failing) return Promise.reject(new Error('connection refused'));
    return Promise.resolve((this.lists[country] ?? []).slice(0, limit));
  }
}

describe(TrendingAds.name, () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
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
