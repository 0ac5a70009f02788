import { EMBEDDING_DIM, l2Normalize, topicIndex } from '@adfunnel/features';
import type { EntityManager } from 'typeorm';
import { AdEntity } from './entities/ad.entity.js';
import { Float32JsonTransformer } from './transformers/float32-json.transformer.js';

/** Ads a centroid is taken over at most (the newest): the mean of a few thousand is as good as all. */
export const CENTROID_SAMPLE_ADS = 5000;

export type DerivedEmbeddingBasis = 'category_centroid' | 'catalog_centroid' | 'category_axis';

export interface DerivedAdEmbedding {
  embedding: Float32Array;
  basis: DerivedEmbeddingBasis;
  /** Ads the centroid was taken over (0 for the axis). */
  ads: number;
}

/**
 * The content embedding of an ad an advertiser created through the API, who describes it (category,
 * title, text, image URL) but hands no embedding: the unit mean embedding of the catalog's ads of its
 * declared category, as retrieval embeds a user's category affinity (its category centroids). A
 * category no ad has yet takes the whole catalog's centroid; an empty catalog the category's own axis.
 */
export async function derivedAdEmbedding(
  manager: EntityManager,
  category: string,
): Promise<DerivedAdEmbedding> {
  const ofCategory = await centroid(manager, category);
  if (ofCategory !== null) return { ...ofCategory, basis: 'category_centroid' };
  const ofCatalog = await centroid(manager, undefined);
  if (ofCatalog !== null) return { ...ofCatalog, basis: 'catalog_centroid' };
  const axis = new Float32Array(EMBEDDING_DIM);
  axis[topicIndex(category) % EMBEDDING_DIM] = 1;
  return { embedding: axis, basis: 'category_axis', ads: 0 };
}

async function centroid(
  manager: EntityManager,
  category: string | undefined,
): Promise<{ embedding: Float32Array; ads: number } | null> {
  const query = manager
    .createQueryBuilder(AdEntity, 'a')
    .select('a.embedding', 'embedding')
    .orderBy('a.id', 'DESC')
    .limit(CENTROID_SAMPLE_ADS);
  if (category !== undefined) query.where('a.category = :category', { category });
  const rows = await query.getRawMany<{ embedding: string }>();
  if (rows.length === 0) return null;
  const sum = new Float32Array(EMBEDDING_DIM);
  for (const row of rows) {
    const v = Float32JsonTransformer.parse(row.embedding, EMBEDDING_DIM);
    for (let d = 0; d < EMBEDDING_DIM; d++) sum[d] += v[d];
  }
  let norm = 0;
  for (let d = 0; d < EMBEDDING_DIM; d++) norm += sum[d] * sum[d];
  return norm > 0 ? { embedding: l2Normalize(sum), ads: rows.length } : null;
}
