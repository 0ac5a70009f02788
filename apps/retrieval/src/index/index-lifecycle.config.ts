import { createHash } from 'node:crypto';
import { basename, dirname, extname, join } from 'node:path';
import { envInteger } from '@adfunnel/platform';
import { z } from 'zod';

/** The index lifecycle's variables, spread into RetrievalConfigSchema. */
export const IndexLifecycleEnv = {
  /**
   * Where the ad indexes are saved and loaded at start (the content index and one per two-tower
   * model); `off`: built at every start, never saved. Unset: beside the catalog database, per bus
   * namespace (see defaultIndexRoot).
   */
  RETRIEVAL_INDEX_DIR: z.string().min(1).optional(),
  /** A changed index is saved this long after its last change (changes in between restart the wait). */
  RETRIEVAL_INDEX_SAVE_DELAY_MS: envInteger('a non-negative integer of milliseconds', 0).default(5_000),
  /**
   * A catalog change with at most this many new vectors (added ads, changed embeddings), and at most
   * RETRIEVAL_INDEX_MAX_DELETED_SHARE of the index, is applied in place (the HNSW insertions in
   * slices, then a synchronous switch); one with more is built aside while the old index serves.
   * Removals and targeting or bid changes cost microseconds and do not count.
   */
  RETRIEVAL_INDEX_INCREMENTAL_MAX: envInteger('a non-negative integer (0 = always rebuild)', 0).default(
    1_000,
  ),
  /** The index is compacted (rebuilt without its soft-deleted points) once they exceed this share of its points. */
  RETRIEVAL_INDEX_MAX_DELETED_SHARE: z.coerce
    .number({ error: 'expected a share between 0 and 1' })
    .min(0, { error: 'expected a share between 0 and 1' })
    .max(1, { error: 'expected a share between 0 and 1' })
    .default(0.2),
  /**
   * Also compacted this often when anything was deleted or updated in place since its build (an
   * updated point's graph links are repaired locally only); 0: only past the deleted share.
   */
  RETRIEVAL_INDEX_COMPACT_MS: envInteger('a non-negative integer of milliseconds (0 disables)', 0).default(
    3_600_000,
  ),
};

export interface IndexLifecycleConfig {
  RETRIEVAL_INDEX_DIR?: string | undefined;
  RETRIEVAL_INDEX_SAVE_DELAY_MS: number;
  RETRIEVAL_INDEX_INCREMENTAL_MAX: number;
  RETRIEVAL_INDEX_MAX_DELETED_SHARE: number;
  RETRIEVAL_INDEX_COMPACT_MS: number;
}

/** The lifecycle settings of `config`, with the schema's defaults for what it leaves out (specs build partial configs). */
export function indexLifecycleSettings(config: Partial<IndexLifecycleConfig>): IndexLifecycleConfig {
  const defaults = z.object(IndexLifecycleEnv).parse({});
  return {
    RETRIEVAL_INDEX_DIR: config.RETRIEVAL_INDEX_DIR,
    RETRIEVAL_INDEX_SAVE_DELAY_MS:
      config.RETRIEVAL_INDEX_SAVE_DELAY_MS ?? defaults.RETRIEVAL_INDEX_SAVE_DELAY_MS,
    RETRIEVAL_INDEX_INCREMENTAL_MAX:
      config.RETRIEVAL_INDEX_INCREMENTAL_MAX ?? defaults.RETRIEVAL_INDEX_INCREMENTAL_MAX,
    RETRIEVAL_INDEX_MAX_DELETED_SHARE:
      config.RETRIEVAL_INDEX_MAX_DELETED_SHARE ?? defaults.RETRIEVAL_INDEX_MAX_DELETED_SHARE,
    RETRIEVAL_INDEX_COMPACT_MS: config.RETRIEVAL_INDEX_COMPACT_MS ?? defaults.RETRIEVAL_INDEX_COMPACT_MS,
  };
}

/**
 * Where saved indexes live when RETRIEVAL_INDEX_DIR is unset: `<SQLite file's directory>/index/<its
 * name>/<namespace>` (var/index/adfunnel/default for the default database), or
 * `var/index/pg-<hash of DATABASE_URL>/<namespace>`: another database or another funnel on the same
 * machine (BUS_NAMESPACE) never loads this one's index, and a test's scratch database takes its
 * index away with it.
 */
export function defaultIndexRoot(config: {
  DATABASE_URL?: string | undefined;
  SQLITE_PATH: string;
  BUS_NAMESPACE: string;
}): string {
  const namespace = config.BUS_NAMESPACE === '' ? 'default' : config.BUS_NAMESPACE;
  if (config.DATABASE_URL !== undefined) {
    const tag = createHash('sha256').update(config.DATABASE_URL).digest('hex').slice(0, 8);
    return join('var', 'index', `pg-${tag}`, namespace);
  }
  const file = config.SQLITE_PATH;
  return join(dirname(file), 'index', basename(file, extname(file)), namespace);
}
