import type { Device, Surface } from '@adfunnel/contracts';
import { DEVICES, SURFACES } from '@adfunnel/contracts';
import { EMBEDDING_DIM } from './content-embedding.js';
import { interestMatch } from './category-mixture.js';
import { type MixtureCatalogAd, categoryMixturesOf } from './category-mixtures-of.js';
import { FEATURE_OFFSETS, FEATURE_SPEC } from './feature-spec.js';
import { queryWordCoverage, textTokens } from './text-tokens.js';
import { TOPIC_COUNT } from './topics.js';

/** The part of the user's logged activity (libs/contracts UserActivity) the ranking features read. */
export interface ActivityFeatureInput {
  impressionsByCategory: ArrayLike<number>;
  clicksByCategory: ArrayLike<number>;
  hidesByCategory: ArrayLike<number>;
  recentAdIds: readonly number[];
  recentAdvertiserIds: readonly number[];
}

export interface UserFeatureInput {
  /** Category affinity inferred from activity (UserContext.interests). */
  interests: ArrayLike<number>;
  device: Device;
  known: boolean;
  activity?: ActivityFeatureInput | undefined;
}

export interface AdFeatureInput {
  /** Index into TOPICS. */
  categoryIndex: number;
  /** Unit vector of EMBEDDING_DIM. */
  embedding: ArrayLike<number>;
  /** Absent: the engagement and query features are 0 for the ad. */
  id?: number;
  advertiserId?: number;
  title?: string;
  text?: string;
  /**
   * How much of each category of TOPICS the ad is about (TOPIC_COUNT entries, summing to 1), as
   * CategoryMixtureDecoder decodes it over the catalog. Absent: the request's `categoryMixtures` of
   * the ad id, and without one the one-hot of `categoryIndex`, so a caller without a catalog still
   * builds rows (then `cross.interest_match` equals `cross.category_affinity`).
   */
  categoryMixture?: ArrayLike<number>;
}

/** The decoded category mixtures of a catalog's ads by id: categoryMixturesOf(snapshot.ads). */
export interface MixtureLookup {
  get(id: number): ArrayLike<number> | undefined;
}

/** Everything about one request the feature rows are built from, apart from the ads. */
export interface FeatureRequest {
  user: UserFeatureInput;
  surface: Surface;
  /** The search query, if any. */
  query?: string | undefined;
  /** The item the ads are shown next to (related_items), if any. */
  contextAd?: Pick<AdFeatureInput, 'categoryIndex' | 'embedding'> | undefined;
  /** The catalog ads of `user.activity.recentAdIds` that still exist, most recent first. */
  recentAds?: readonly Pick<AdFeatureInput, 'embedding'>[] | undefined;
  /** The category mixture of an ad without its own `categoryMixture`, by ad id. */
  categoryMixtures?: MixtureLookup | undefined;
}

/** How a request finds ads by id: a catalog snapshot's `byId`. */
export interface AdLookup<A extends AdFeatureInput> {
  get(id: number): A | undefined;
}

/** What a request's features read of a catalog snapshot: its ads (for the mixtures) and `byId`. */
export interface FeatureCatalog<A extends AdFeatureInput & MixtureCatalogAd> {
  readonly ads: readonly A[];
  readonly byId: AdLookup<A>;
}

/**
 * The FeatureRequest of a user context (as the gateway builds it) with the catalog lookups done:
 * the recently engaged ads, the context item, and the ads' category mixtures (categoryMixturesOf the
 * snapshot's ads: decoded once per snapshot). Ranking and the served-record writer both build it
 * this way from the same snapshot, so the logged rows are the rows ranking scored.
 */
export function featureRequestOf<A extends AdFeatureInput & MixtureCatalogAd>(
  user: UserFeatureInput,
  surface: Surface,
  options: { query?: string | undefined; contextAdId?: number | undefined },
  catalog: FeatureCatalog<A>,
): FeatureRequest {
  const { byId } = catalog;
  const recentAds: A[] = [];
  for (const id of user.activity?.recentAdIds ?? []) {
    const ad = byId.get(id);
    if (ad) recentAds.push(ad);
  }
  const contextAd = options.contextAdId === undefined ? undefined : byId.get(options.contextAdId);
  const categoryMixtures = categoryMixturesOf(catalog.ads);
  return { user, surface, query: options.query, contextAd, recentAds, categoryMixtures };
}

const O = FEATURE_OFFSETS as Record<
  | 'user.affinity'
  | 'user.known'
  | 'user.activity'
  | 'ctx.device'
  | 'ctx.surface'
  | 'ad.category'
  | 'ad.category_mixture'
  | 'ad.embedding'
  | 'cross.recent_cosine'
  | 'cross.category_affinity'
  | 'cross.interest_match'
  | 'cross.category_exposure'
  | 'cross.engaged'
  | 'cross.query_match'
  | 'cross.context',
  number
>;

const NO_IDS: ReadonlySet<number> = new Set();

/**
 * Builds the row-major [ads.length x FEATURE_SPEC.dim] model input. The user and context part is
 * computed once per request and copied into every row.
 */
export function buildFeatureMatrix(
  request: FeatureRequest,
  ads: readonly AdFeatureInput[],
  out: Float32Array = new Float32Array(ads.length * FEATURE_SPEC.dim),
): Float32Array {
  const { user, surface } = request;
  const dim = FEATURE_SPEC.dim;
  if (user.interests.length !== TOPIC_COUNT) {
    throw new RangeError(`user interests have ${user.interests.length} entries, expected ${TOPIC_COUNT}`);
  }
  if (out.length < ads.length * dim) throw new RangeError('output buffer too small for the feature matrix');
  const deviceIndex = DEVICES.indexOf(user.device);
  const surfaceIndex = SURFACES.indexOf(surface);
  if (deviceIndex < 0) throw new RangeError(`unknown device "${user.device}"`);
  if (surfaceIndex < 0) throw new RangeError(`unknown surface "${surface}"`);
  const activity = user.activity;
  if (activity) {
    for (const [name, counts] of [
      ['impressionsByCategory', activity.impressionsByCategory],
      ['clicksByCategory', activity.clicksByCategory],
      ['hidesByCategory', activity.hidesByCategory],
    ] as const) {
      if (counts.length !== TOPIC_COUNT) {
        throw new RangeError(`user activity ${name} has ${counts.length} entries, expected ${TOPIC_COUNT}`);
      }
    }
  }

  const prefix = new Float32Array(O['ad.category']);
  for (let k = 0; k < TOPIC_COUNT; k++) prefix[O['user.affinity'] + k] = user.interests[k]!;
  prefix[O['user.known']] = user.known ? 1 : 0;
  if (activity) {
    prefix[O['user.activity']] = Math.log1p(sum(activity.impressionsByCategory));
    prefix[O['user.activity'] + 1] = Math.log1p(sum(activity.clicksByCategory));
    prefix[O['user.activity'] + 2] = Math.log1p(sum(activity.hidesByCategory));
  }
  prefix[O['ctx.device'] + deviceIndex] = 1;
  prefix[O['ctx.surface'] + surfaceIndex] = 1;

  const recent = meanEmbedding(request.recentAds ?? []);
  const engagedAds = activity ? new Set(activity.recentAdIds) : NO_IDS;
  const engagedAdvertisers = activity ? new Set(activity.recentAdvertiserIds) : NO_IDS;
  const queryWords = request.query === undefined ? [] : textTokens(request.query);
  const context = request.contextAd;

  for (let i = 0; i < ads.length; i++) {
    const ad = ads[i];
    const row = i * dim;
    out.fill(0, row, row + dim);
    out.set(prefix, row);
    const c = ad.categoryIndex;
    if (!Number.isInteger(c) || c < 0 || c >= TOPIC_COUNT) {
      throw new RangeError(`ad category index ${c} outside 0..${TOPIC_COUNT - 1}`);
    }
    out[row + O['ad.category'] + c] = 1;
    const mixture =
      ad.categoryMixture ?? (ad.id === undefined ? undefined : request.categoryMixtures?.get(ad.id));
    if (mixture) {
      if (mixture.length !== TOPIC_COUNT) {
        throw new RangeError(`ad category mixture has ${mixture.length} entries, expected ${TOPIC_COUNT}`);
      }
      const mixAt = row + O['ad.category_mixture'];
      for (let k = 0; k < TOPIC_COUNT; k++) out[mixAt + k] = mixture[k];
      out[row + O['cross.interest_match']] = interestMatch(user.interests, mixture);
    } else {
      out[row + O['ad.category_mixture'] + c] = 1;
      out[row + O['cross.interest_match']] = user.interests[c]!;
    }
    const embAt = row + O['ad.embedding'];
    for (let d = 0; d < EMBEDDING_DIM; d++) out[embAt + d] = ad.embedding[d];
    if (recent) out[row + O['cross.recent_cosine']] = dotAt(ad.embedding, recent);
    out[row + O['cross.category_affinity']] = user.interests[c]!;
    if (activity) {
      out[row + O['cross.category_exposure']] = Math.log1p(activity.impressionsByCategory[c]);
      out[row + O['cross.category_exposure'] + 1] = Math.log1p(activity.hidesByCategory[c]);
    }
    if (ad.id !== undefined && engagedAds.has(ad.id)) out[row + O['cross.engaged']] = 1;
    if (ad.advertiserId !== undefined && engagedAdvertisers.has(ad.advertiserId)) {
      out[row + O['cross.engaged'] + 1] = 1;
    }
    if (queryWords.length > 0) {
      const { title, all } = adTokens(ad);
      out[row + O['cross.query_match']] = queryWordCoverage(queryWords, all);
      out[row + O['cross.query_match'] + 1] = queryWordCoverage(queryWords, title);
    }
    if (context) {
      out[row + O['cross.context']] = dotAt(ad.embedding, context.embedding);
      out[row + O['cross.context'] + 1] = context.categoryIndex === c ? 1 : 0;
    }
  }
  return out;
}

/** Catalog ads are immutable objects of a snapshot, so their token sets are computed once per ad. */
const tokenCache = new WeakMap<object, { title: ReadonlySet<string>; all: ReadonlySet<string> }>();

function adTokens(ad: AdFeatureInput): { title: ReadonlySet<string>; all: ReadonlySet<string> } {
  const hit = tokenCache.get(ad);
  if (hit) return hit;
  const title = new Set(textTokens(ad.title ?? ''));
  const tokens = { title, all: new Set([...title, ...textTokens(ad.text ?? '')]) };
  tokenCache.set(ad, tokens);
  return tokens;
}

function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

function dotAt(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let d = 0; d < EMBEDDING_DIM; d++) s += a[d] * b[d];
  return s;
}

/** The normalized mean of the embeddings, or null for none (or a mean of length 0). */
function meanEmbedding(ads: readonly Pick<AdFeatureInput, 'embedding'>[]): Float32Array | null {
  if (ads.length === 0) return null;
  const mean = new Float32Array(EMBEDDING_DIM);
  for (const ad of ads) for (let d = 0; d < EMBEDDING_DIM; d++) mean[d] += ad.embedding[d];
  let norm = 0;
  for (let d = 0; d < EMBEDDING_DIM; d++) norm += mean[d] * mean[d];
  if (norm === 0) return null;
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < EMBEDDING_DIM; d++) mean[d] *= inv;
  return mean;
}
