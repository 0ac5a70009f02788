import { BUDGET_DEFAULTS, BudgetEnv, FrequencyCapEnv } from '@adfunnel/budget';
import { CommonEnv, loadConfig, type Env, envInteger, envPort } from '@adfunnel/platform';
import { z } from 'zod';

export const RetrievalConfigSchema = z.object({
  ...CommonEnv,
  RETRIEVAL_HOST: z.string().min(1).default('127.0.0.1'),
  RETRIEVAL_PORT: envPort(3101),
  /** HNSW search breadth: higher recalls more and costs more per query. */
  RETRIEVAL_EF_SEARCH: envInteger('a positive integer', 1, 100_000).default(128),
  /** Eligible sets smaller than this many ads are scanned exactly instead of searched through HNSW. */
  RETRIEVAL_EXACT_THRESHOLD: envInteger('a non-negative integer (0 = always use HNSW)', 0).default(4000),
  ...BudgetEnv,
  ...FrequencyCapEnv,
  /** How often the campaigns that have spent their daily budget are reloaded from Redis. */
  BUDGET_REFRESH_MS: envInteger('a positive integer of milliseconds', 1).default(BUDGET_DEFAULTS.refreshMs),
});

export type RetrievalConfig = z.output<typeof RetrievalConfigSchema>;

export function loadRetrievalConfig(env?: Env): RetrievalConfig {
  return loadConfig(RetrievalConfigSchema, env);
}
