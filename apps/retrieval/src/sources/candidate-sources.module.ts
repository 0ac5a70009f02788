import { APP_CONFIG } from '@adfunnel/platform';
import { Module } from '@nestjs/common';
import type { RetrievalConfig } from '../config.js';
import { CandidateSources } from './candidate-sources.js';
import { TrendingAds, type TrendingReader } from './trending-ads.js';
import { ActivityUserQueryVector, UserQueryVector } from './user-query-vector.js';

/** Where the trending source reads per-country engagement; null: the source answers nothing. */
export const TRENDING_READER = Symbol('TRENDING_READER');

/**
 * The candidate sources and what they hold beyond the index: the user query vector (the seam a
 * learned user tower replaces: provide another UserQueryVector) and the trending lists.
 */
@Module({
  providers: [
    { provide: UserQueryVector, useClass: ActivityUserQueryVector },
    { provide: TRENDING_READER, useValue: null },
    {
      provide: TrendingAds,
      inject: [TRENDING_READER, APP_CONFIG],
      useFactory: (reader: TrendingReader | null, config: RetrievalConfig) =>
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
