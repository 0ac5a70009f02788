import { APP_CONFIG } from '@adfunnel/platform';
import { Module } from '@nestjs/common';
import type { RetrievalConfig } from '../config.js';
import { CandidateSources } from './candidate-sources.js';
import { TrendingAds, type TrendingReader } from './trending-ads.js';
import { TrendingRedisReader } from './trending-redis-reader.js';
import { ActivityUserQueryVector, UserQueryVector } from './user-query-vector.js';

/**
 * The candidate sources and what they hold beyond the index: the user query vector (the seam a
 * learned user tower replaces: provide another UserQueryVector) and the trending lists, refreshed
 * from logging's per-country sets in Redis.
 */
@Module({
  providers: [
    {
      provide: UserQueryVector,
      inject: [APP_CONFIG],
      useFactory: (config: RetrievalConfig) => new ActivityUserQueryVector(config.RETRIEVAL_ANN_INTERESTS),
    },
    TrendingRedisReader,
    {
      provide: TrendingAds,
      inject: [TrendingRedisReader, APP_CONFIG],
      useFactory: (reader: TrendingReader, config: RetrievalConfig) =>
        new TrendingAds(reader, config.RETRIEVAL_TRENDING_LIMIT, config.RETRIEVAL_TRENDING_REFRESH_MS),
    },
    {
      provide: CandidateSources,
      inject: [UserQueryVector, TrendingAds, APP_CONFIG],
      useFactory: (vector: UserQueryVector, trending: TrendingAds, config: RetrievalConfig) =>
        new CandidateSources(vector, trending, {
          annOverfetch: config.RETRIEVAL_ANN_OVERFETCH,
          querySeeds: config.RETRIEVAL_QUERY_SEEDS,
        }),
    },
  ],
  exports: [CandidateSources],
})
export class CandidateSourcesModule {}
