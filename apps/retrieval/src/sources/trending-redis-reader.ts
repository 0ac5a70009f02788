import { Clock, InjectConfig } from '@adfunnel/platform';
import { trendingAds } from '@adfunnel/user-activity';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { RetrievalConfig } from '../config.js';
import type { TrendingAd, TrendingReader } from './trending-ads.js';

/**
 * The per-country trending sets logging keeps in Redis (libs/user-activity: decayed clicks per ad,
 * under USER_ACTIVITY_KEY_PREFIX, decayed to the funnel's clock with TRENDING_HALF_LIFE_MS), read by
 * TrendingAds off the request path. Its own connection, without an offline queue, so a refresh while
 * Redis is away fails at once and the previous lists keep serving. Its reads are bounded by
 * RETRIEVAL_TRENDING_REFRESH_TIMEOUT_MS, not the serving path's USER_ACTIVITY_REDIS_TIMEOUT_MS: no
 * request waits on them, and a refresh sends every country's read at once.
 */
@Injectable()
export class TrendingRedisReader implements TrendingReader, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TrendingRedisReader.name);
  private readonly redis: Redis;

  constructor(
    @InjectConfig() private readonly config: RetrievalConfig,
    private readonly clock: Clock,
  ) {
    this.redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: config.RETRIEVAL_TRENDING_REFRESH_TIMEOUT_MS,
      connectionName: 'adfunnel-retrieval-trending',
    });
    this.redis.on('error', (error: Error) => this.logger.debug(`trending Redis: ${error.message}`));
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.redis.connect();
    } catch (error) {
      this.logger.warn(`trending Redis not reachable at start-up: ${(error as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  async trendingAds(country: string, limit: number): Promise<readonly TrendingAd[]> {
    const ads = await trendingAds(this.redis, country, limit, {
      prefix: this.config.USER_ACTIVITY_KEY_PREFIX,
      halfLifeMs: this.config.TRENDING_HALF_LIFE_MS,
      now: this.clock.now(),
    });
    return ads.map((ad) => ({ adId: ad.adId, score: ad.clicks }));
  }
}
