import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig, type Clock } from '@adfunnel/platform';
import { TEST_REDIS_URL, deleteRedisKeys } from '@adfunnel/testing';
import { UserActivityStore } from '@adfunnel/user-activity';
import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RetrievalConfigSchema } from '../config.js';
import { TrendingAds } from './trending-ads.js';
import { TrendingRedisReader } from './trending-redis-reader.js';

const T0 = Date.UTC(2026, 11, 1, 12);

describe(TrendingRedisReader.name, () => {
  const prefix = `retrieval_trending_${randomUUID().slice(0, 12)}`;
  let writer: Redis;
  let sut: TrendingRedisReader;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    writer = new Redis(TEST_REDIS_URL);
    const config = parseConfig(RetrievalConfigSchema, {
      REDIS_URL: TEST_REDIS_URL,
      USER_ACTIVITY_KEY_PREFIX: prefix,
      // The refresh reads every country at once; on a loaded CI machine some of those reads took
      // longer than the serving path's 50 ms and the refresh kept its empty lists. Timeouts are not
      // what this spec is about.
      USER_ACTIVITY_REDIS_TIMEOUT_MS: '5000',
    });
    const clock: Clock = { now: () => T0 + 1000 };
    sut = new TrendingRedisReader(config, clock);
    await sut.onModuleInit();
  });

  afterAll(async () => {
    await sut?.onApplicationShutdown();
    await deleteRedisKeys(prefix);
    await writer?.quit();
  });

  it("reads the clicks logging counts per country, most clicked first, into the trending source's lists", async () => {
    const store = new UserActivityStore(writer, { prefix });
    for (const adId of [7, 7, 7, 3, 3, 5]) await store.bumpTrending('FR', adId, T0);
    await store.bumpTrending('JP', 11, T0);

    const read = await sut.trendingAds('FR', 2);
    expect(read.map((a) => a.adId)).toEqual([7, 3]);
    expect(read[0].score).toBeGreaterThan(read[1].score);

    const trending = new TrendingAds(sut, 10, 60_000);
    await trending.refresh();
    expect(trending.top('FR').map((a) => a.adId)).toEqual([7, 3, 5]);
    expect(trending.top('JP').map((a) => a.adId)).toEqual([11]);
    expect(trending.top('US')).toEqual([]);
  });
});
