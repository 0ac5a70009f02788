import type { UserContext } from '@adfunnel/contracts';
import type { CandidateCatalog } from './candidate-catalog.js';

/** One of the user's interests to search around, with its share of the personalized candidates. */
export interface InterestQuery {
  /** A unit vector in the ad embedding space. */
  readonly vector: Float32Array;
  /** Share of the source's candidates, in (0, 1]; the shares of one request sum to 1. */
  readonly weight: number;
}

/** What the personalized search starts from, and from which signal (for the debug log). */
export interface UserQuery {
  /** Empty: no signal, the popular list answers. One or several interests, most weight first. */
  readonly interests: readonly InterestQuery[];
  readonly basis: 'interests' | 'recent_ads' | 'affinity' | 'none';
}

/**
 * The seam where the personalized ANN's query vectors are computed: one provider, injected into the
 * retrieval service, so a learned user tower can replace the default without touching the sources.
 */
export abstract class UserQueryVector {
  abstract queryFor(user: UserContext, catalog: CandidateCatalog): UserQuery;
}

/** Weight of the i-th most recent engaged ad: RECENT_AD_DECAY^i, so the latest few dominate. */
export const RECENT_AD_DECAY = 0.8;

/** Most interests searched separately per request by default (RETRIEVAL_ANN_INTERESTS). */
export const MAX_INTERESTS = 3;

/**
 * A category is an interest of its own when the user's affinity for it is at least this (uniform over
 * the 16 categories is 0.0625): below it, the affinity says little and one blended vector serves.
 */
export const MIN_INTEREST_AFFINITY = 0.12;

/**
 * From what the funnel observed. A user's engagement is rarely about one thing (PinnerSage's point:
 * one averaged vector lands between their interests, near none of them), so each category of
 * notable affinity (`interests`, inferred from ad clicks, conversions and organic engagement; at
 * most MAX_INTERESTS of them, each at least MIN_INTEREST_AFFINITY) is searched on its own, its share
 * of the candidates its share of that affinity: around the recency-weighted mean of the ads of that
 * category the user clicked or converted on, or the category's centroid (the mean embedding of its
 * ads) when there are none. A user with no category standing out gets one vector: the mean of their
 * recent ads, else the affinity-weighted mean of the centroids; with neither, none.
 */
export class ActivityUserQueryVector extends UserQueryVector {
  /** `maxInterests` 0: one vector per user, as when no category stands out. */
  constructor(private readonly maxInterests: number = MAX_INTERESTS) {
    super();
    if (!Number.isInteger(maxInterests) || maxInterests < 0) {
      throw new RangeError(`the interests searched must be an integer >= 0, got ${maxInterests}`);
    }
  }

  queryFor(user: UserContext, catalog: CandidateCatalog): UserQuery {
    const recentAdIds = user.activity?.recentAdIds ?? [];
    const interests =
      this.maxInterests === 0 ? [] : interestQueries(user.interests, recentAdIds, catalog, this.maxInterests);
    if (interests.length > 0) return { interests, basis: 'interests' };
    const recent = recentAdsVector(recentAdIds, catalog);
    if (recent !== null) return { interests: [{ vector: recent, weight: 1 }], basis: 'recent_ads' };
    const affinity = affinityVector(user.interests, catalog);
    if (affinity !== null) return { interests: [{ vector: affinity, weight: 1 }], basis: 'affinity' };
    return { interests: [], basis: 'none' };
  }
}

/** The user's notable categories as queries (see ActivityUserQueryVector), most affinity first. */
export function interestQueries(
  affinity: readonly number[],
  recentAdIds: readonly number[],
  catalog: CandidateCatalog,
  maxInterests: number = MAX_INTERESTS,
): InterestQuery[] {
  const top = affinity
    .map((a, k) => ({ a, k }))
    .filter(({ a, k }) => a >= MIN_INTEREST_AFFINITY && catalog.categoryCentroid(k) !== null)
    .sort((x, y) => y.a - x.a || x.k - y.k)
    .slice(0, maxInterests);
  const total = top.reduce((sum, { a }) => sum + a, 0);
  return top.map(({ a, k }) => {
    const ofCategory = recentAdIds.filter((id) => catalog.ad(id)?.categoryIndex === k);
    const vector = recentAdsVector(ofCategory, catalog) ?? catalog.categoryCentroid(k)!;
    return { vector, weight: a / total };
  });
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
