import { BUDGET_DEFAULTS, BudgetEnv, FrequencyCapEnv } from '@adfunnel/budget';
import { DeliveryEnv } from '@adfunnel/delivery-diagnostics';
import { CommonEnv, loadConfig, type Env, envInteger, envPort } from '@adfunnel/platform';
import { UserActivityEnv } from '@adfunnel/user-activity';
import { z } from 'zod';
import { IndexLifecycleEnv } from './index/index-lifecycle.config.js';
import { QuotaEnv } from './sources/quotas.js';
import { TwoTowerEnv } from './two-tower/two-tower.config.js';

export const RetrievalConfigSchema = z.object({
  ...CommonEnv,
  RETRIEVAL_HOST: z.string().min(1).default('127.0.0.1'),
  RETRIEVAL_PORT: envPort(3101),
  /** HNSW search breadth: higher recalls more and costs more per query. */
  RETRIEVAL_EF_SEARCH: envInteger('a positive integer', 1, 100_000).default(128),
  /** Eligible sets smaller than this many ads are scanned exactly instead of searched through HNSW. */
  RETRIEVAL_EXACT_THRESHOLD: envInteger('a non-negative integer (0 = always use HNSW)', 0).default(4000),
  /** Saving, loading, incremental updates and compaction of the indexes (RETRIEVAL_INDEX_*). */
  ...IndexLifecycleEnv,
  /**
   * Each surface's candidate sources, their shares of the limit and their merge priority,
   * `lexical:0.6,query:0.3,ann:0.1` (RETRIEVAL_QUOTAS_HOME_FEED, _SEARCH, _RELATED_ITEMS; unset: DEFAULT_QUOTAS).
   */
  ...QuotaEnv,
  /**
   * Each source asks the index for its quota of the limit times this, rounded up (and asks again
   * for the whole limit if the merge runs through that); 0 asks every source for the whole limit.
   */
  RETRIEVAL_SOURCE_HEADROOM: z.coerce
    .number({ error: 'expected 0 or a number from 1 to 10' })
    .refine((x) => x === 0 || (x >= 1 && x <= 10), { error: 'expected 0 or a number from 1 to 10' })
    .default(1.5),
  /**
   * The personalized ANN fetches this many times its candidates and keeps the best by similarity x
   * the campaign's prior value per impression; 1 keeps the nearest by similarity alone.
   */
  RETRIEVAL_ANN_OVERFETCH: envInteger('an integer from 1 to 20', 1, 20).default(1),
  /**
   * The personalized ANN searches up to this many of the user's notable categories on their own
   * (README, "Candidate sources"); 0: one vector per user, the mean of their recent ads or affinity.
   */
  RETRIEVAL_ANN_INTERESTS: envInteger('an integer from 0 to 8', 0, 8).default(3),
  /** Best lexical hits whose embeddings the `query` source searches around. */
  RETRIEVAL_QUERY_SEEDS: envInteger('an integer from 1 to 1000', 1, 1000).default(20),
  /** How often the trending ads per country are reloaded from Redis, off the request path. */
  RETRIEVAL_TRENDING_REFRESH_MS: envInteger('a positive integer of milliseconds', 1).default(5000),
  /**
   * A trending refresh's Redis read that has not answered by then fails, and that country keeps its
   * previous list. Longer than USER_ACTIVITY_REDIS_TIMEOUT_MS, which bounds one read on a request: a
   * refresh reads every country at once, off the request path, and on a loaded machine the last of
   * those reads answer well past 50 ms.
   */
  RETRIEVAL_TRENDING_REFRESH_TIMEOUT_MS: envInteger('a positive integer of milliseconds', 1).default(2000),
  /** Trending ads kept per country. */
  RETRIEVAL_TRENDING_LIMIT: envInteger('an integer from 1 to 10000', 1, 10_000).default(500),
  /** Where the trending source reads (USER_ACTIVITY_KEY_PREFIX, TRENDING_HALF_LIFE_MS): logging's values. */
  ...UserActivityEnv,
  /** The two-tower model (MODELS_DIR, RETRIEVAL_MODEL, RETRIEVAL_TWO_TOWER, RETRIEVAL_MODEL_WATCH_MS). */
  ...TwoTowerEnv,
  ...BudgetEnv,
  ...FrequencyCapEnv,
  ...DeliveryEnv,
  /** How often the campaigns that have spent their daily budget are reloaded from Redis. */
  BUDGET_REFRESH_MS: envInteger('a positive integer of milliseconds', 1).default(BUDGET_DEFAULTS.refreshMs),
});

export type RetrievalConfig = z.output<typeof RetrievalConfigSchema>;

export function loadRetrievalConfig(env?: Env): RetrievalConfig {
  return loadConfig(RetrievalConfigSchema, env);
}
