import type { UserContext } from '@adfunnel/contracts';
import type { CandidateCatalog } from './candidate-catalog.js';

/** What the personalized search starts from, and from which signal (for the debug log). */
export interface UserQuery {
  /** A unit vector in the ad embedding space; null: no signal, the popular list answers. */
  readonly vector: Float32Array | null;
  readonly basis: 'recent_ads' | 'affinity' | 'none';
}

/**
 * The seam where the personalized ANN's query vector is computed: one provider, injected into the
 * retrieval service, so a learned user tower can replace the default without touching the sources.
 */
export abstract class UserQueryVector {
  abstract queryFor(user: UserContext, catalog: CandidateCatalog): UserQuery;
}

/** Weight of the i-th most recent engaged ad: RECENT_AD_DECAY^i, so the latest few dominate. */
export const RECENT_AD_DECAY = 0.8;

/**
 * From what the funnel observed: the recency-weighted mean of the catalog embeddings of the ads the
 * user clicked or converted on (activity.recentAdIds, newest first), normalised; without any (or
 * none still in the catalog), the category affinity inferred from activity (`interests`) over the
 * catalog's category centroids (the mean embedding of each declared category's ads); without that
 * either, no vector.
 */
export class ActivityUserQueryVector extends UserQueryVector {
  queryFor(user: UserContext, catalog: CandidateCatalog): UserQuery {
    const recent = recentAdsVector(user.activity?.recentAdIds ?? [], catalog);
    if (recent !== null) return { vector: recent, basis: 'recent_ads' };
    const affinity = affinityVector(user.interests, catalog);
    if (affinity !== null) return { vector: affinity, basis: 'affinity' };
    return { vector: null, basis: 'none' };
  }
}

/** Normalised affinity-weighted mean of the catalog's category centroids; null without affinity. */
export function affinityVector(affinity: readonly number[], catalog: CandidateCatalog): Float32Array | null {
  let sum: Float32Array | null = null;
  for (let k = 0; k < affinity.length; k++) {
    const centroid = affinity[k] > 0 ? catalog.categoryCentroid(k) : null;
    if (centroid === null) continue;
    sum ??= new Float32Array(centroid.length);
    for (let d = 0; d < sum.length; d++) sum[d] += affinity[k] * centroid[d];
  }
  return sum === null ? null : normalized(sum);
}

/** Normalised recency-weighted mean of the ads' embeddings; null when none is in the catalog. */
export function recentAdsVector(adIds: readonly number[], catalog: CandidateCatalog): Float32Array | null {
  let sum: Float32Array | null = null;
  let weight = 1;
  for (const adId of adIds) {
    const ad = catalog.ad(adId);
    if (ad !== undefined) {
      sum ??= new Float32Array(ad.embedding.length);
      for (let d = 0; d < sum.length; d++) sum[d] += weight * ad.embedding[d];
    }
    weight *= RECENT_AD_DECAY;
  }
  return sum === null ? null : normalized(sum);
}

/** `v` scaled to unit length in place; null for the zero vector (ads pointing opposite ways). */
export function normalized(v: Float32Array): Float32Array | null {
  let norm = 0;
  for (let d = 0; d < v.length; d++) norm += v[d] * v[d];
  if (!(norm > 0)) return null;
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < v.length; d++) v[d] *= inv;
  return v;
}
