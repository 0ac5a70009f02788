import { CommonEnv, loadConfig, type Env } from '@adfunnel/platform';
import { z } from 'zod';

const integer = (what: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: `expected ${what}` })
    .int({ error: `expected ${what}` })
    .min(min, { error: `expected ${what}` })
    .max(max, { error: `expected ${what}` });

export const RetrievalConfigSchema = z.object({
  ...CommonEnv,
  RETRIEVAL_PORT: integer('a port number', 1, 65535).default(3101),
  /** HNSW search breadth: higher recalls more and costs more per query. */
  RETRIEVAL_EF_SEARCH: integer('a positive integer', 1, 100_000).default(128),
  /** Eligible sets smaller than this many ads are scanned exactly instead of searched through HNSW. */
  RETRIEVAL_EXACT_THRESHOLD: integer('a non-negative integer (0 = always use HNSW)', 0).default(4000),
  CATALOG_REFRESH_MS: integer('a non-negative integer of milliseconds (0 disables)', 0).default(60_000),
});

export type RetrievalConfig = z.output<typeof RetrievalConfigSchema>;

export function loadRetrievalConfig(env?: Env): RetrievalConfig {
  return loadConfig(RetrievalConfigSchema, env);
}
