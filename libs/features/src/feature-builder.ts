import type { Device, Surface } from '@adfunnel/contracts';
import { DEVICES, SURFACES } from '@adfunnel/contracts';
import { EMBEDDING_DIM, userEmbedding } from './content-embedding.js';
import { FEATURE_OFFSETS, FEATURE_SPEC } from './feature-spec.js';
import { TOPIC_COUNT } from './topics.js';

export interface UserFeatureInput {
  interests: ArrayLike<number>;
  device: Device;
  known: boolean;
}

export interface AdFeatureInput {
  /** Index into TOPICS. */
  categoryIndex: number;
  /** Unit vector of EMBEDDING_DIM. */
  embedding: ArrayLike<number>;
}

const O = FEATURE_OFFSETS as Record<
  | 'user.interests'
  | 'user.known'
  | 'ctx.device'
  | 'ctx.surface'
  | 'ad.category'
  | 'ad.embedding'
  | 'cross.cosine'
  | 'cross.category_interest',
  number
>;

/**
 * Builds the row-major [ads.length x FEATURE_SPEC.dim] model input. The user and context part is
 * computed once per request and copied into every row.
 */
export function buildFeatureMatrix(
  user: UserFeatureInput,
  surface: Surface,
  ads: readonly AdFeatureInput[],
  out: Float32Array = new Float32Array(ads.length * FEATURE_SPEC.dim),
): Float32Array {
  const dim = FEATURE_SPEC.dim;
  if (user.interests.length !== TOPIC_COUNT) {
    throw new RangeError(`user interests have ${user.interests.length} entries, expected ${TOPIC_COUNT}`);
  }
  if (out.length < ads.length * dim) throw new RangeError('output buffer too small for the feature matrix');
  const deviceIndex = DEVICES.indexOf(user.device);
  const surfaceIndex = SURFACES.indexOf(surface);
  if (deviceIndex < 0) throw new RangeError(`unknown device "${user.device}"`);
  if (surfaceIndex < 0) throw new RangeError(`unknown surface "${surface}"`);

  const prefix = new Float32Array(O['ad.category']);
  for (let k = 0; k < TOPIC_COUNT; k++) prefix[O['user.interests'] + k] = user.interests[k]!;
  prefix[O['user.known']] = user.known ? 1 : 0;
  prefix[O['ctx.device'] + deviceIndex] = 1;
  prefix[O['ctx.surface'] + surfaceIndex] = 1;
  const uEmb = userEmbedding(user.interests);
  const hasProfile = user.known && uEmb.some((v) => v !== 0);

  for (let i = 0; i < ads.length; i++) {
    const ad = ads[i];
    const row = i * dim;
    out.fill(0, row, row + dim);
    out.set(prefix, row);
    if (ad.categoryIndex < 0 || ad.categoryIndex >= TOPIC_COUNT) {
      throw new RangeError(`ad category index ${ad.categoryIndex} outside 0..${TOPIC_COUNT - 1}`);
    }
    out[row + O['ad.category'] + ad.categoryIndex] = 1;
    let cos = 0;
    const embAt = row + O['ad.embedding'];
    for (let d = 0; d < EMBEDDING_DIM; d++) {
      const v = ad.embedding[d];
      out[embAt + d] = v;
      cos += v * uEmb[d];
    }
    out[row + O['cross.cosine']] = hasProfile ? cos : 0;
    out[row + O['cross.category_interest']] = user.interests[ad.categoryIndex]!;
  }
  return out;
}
