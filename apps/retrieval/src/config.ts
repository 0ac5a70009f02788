import { CommonEnv, loadConfig, type Env, envInteger, envPort } from '@adfunnel/platform';
import { z } from 'zod';

export const RetrievalConfigSchema = z.object({
  ...CommonEnv,
  RETRIEVAL_PORT: envPort(3101),
  /** HNSW search breadth: higher recalls more and costs more per query. */
  RETRIEVAL_EF_SEARCH: envInteger('a positive integer', 1, 100_000).default(128),
  /** Eligible sets smaller than this many ads are scanned exactly instead of searched through HNSW. */
  RETRIEVAL_EXACT_THRESHOLD: envInteger('a non-negative integer (0 = always use HNSW)', 0).default(4000),
});

export type RetrievalConfig = z.output<typeof RetrievalConfigSchema>;

export function loadRetrievalConfig(env?: Env): RetrievalConfig {
  return loadConfig(RetrievalConfigSchema, env);
}
