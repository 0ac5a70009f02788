import type { UserActivity } from '@adfunnel/contracts';
import { TOPIC_COUNT } from '@adfunnel/features';
import { USER_ACTIVITY_DEFAULTS, checkHalfLife, decayFactor, hasActivity } from './user-activity.js';

/** The weights of categoryAffinity, in clicks: what one of each event is worth. */
export interface AffinityWeights {
  /** Added per conversion, on top of its click. */
  readonly conversion: number;
  /** Taken per hide. */
  readonly hide: number;
  /** Taken per impression the user did not click. */
  readonly unclickedImpression: number;
  /** Added per engagement with organic content of the category (POST /v1/activity). */
  readonly engagement: number;
  /** Pseudo-clicks spread evenly over the categories: what a single click has to outweigh. */
  readonly prior: number;
}

export const AFFINITY_WEIGHTS: AffinityWeights = {
  conversion: 2,
  hide: 1,
  unclickedImpression: 0.05,
  engagement: 0.5,
  prior: 1,
};

/**
 * The user's affinity for each category (the TOPICS of libs/features, an ad's declared category), from
 * what the funnel logged of them: non-negative, summing to 1, or all zero for a user without activity.
 *
 * With every count decayed to `now` (`d = 2^(-(now - updatedAt) / halfLife)`), category k scores
 *
 *   s_k = max(0, prior / K + d * (C_k + w_conv * V_k + w_eng * E_k - w_hide * H_k - w_imp * max(0, I_k - C_k)))
 *
 * for K categories, ad clicks C, conversions V, organic engagements E (what the product surface
 * reported of its own content), hides H and impressions I, and the affinity is
 * s_k / sum_j s_j (uniform when every score is 0: the user engaged, but with nothing in particular).
 * The prior keeps one click from making a category everything and lets affinity drift back towards
 * uniform as the activity ages; an impression without a click counts a twentieth of a click against
 * its category (with the default weights), a hide cancels a click, a conversion adds two, an organic
 * engagement half a click (there are many more of them, and they are about content, not ads).
 */
export function categoryAffinity(
  activity: UserActivity | null | undefined,
  now: number,
  halfLifeMs: number = USER_ACTIVITY_DEFAULTS.halfLifeMs,
  weights: AffinityWeights = AFFINITY_WEIGHTS,
): number[] {
  checkHalfLife(halfLifeMs);
  if (!hasActivity(activity)) return new Array<number>(TOPIC_COUNT).fill(0);
  const { impressionsByCategory, clicksByCategory, hidesByCategory, conversionsByCategory } = activity;
  const all = { impressionsByCategory, clicksByCategory, hidesByCategory, conversionsByCategory };
  for (const [name, counts] of Object.entries(all)) {
    if (counts.length !== TOPIC_COUNT) {
      throw new RangeError(`activity ${name} has ${counts.length} categories, expected ${TOPIC_COUNT}`);
    }
  }
  const E = activity.engagementsByCategory;
  if (E !== undefined && E.length !== TOPIC_COUNT) {
    throw new RangeError(
      `activity engagementsByCategory has ${E.length} categories, expected ${TOPIC_COUNT}`,
    );
  }
  const [I, C, H, V] = [impressionsByCategory, clicksByCategory, hidesByCategory, conversionsByCategory];
  const d = decayFactor(activity.updatedAt, now, halfLifeMs);
  const base = weights.prior / TOPIC_COUNT;
  const scores = new Array<number>(TOPIC_COUNT);
  let total = 0;
  for (let k = 0; k < TOPIC_COUNT; k++) {
    const engagement =
      C[k] +
      weights.conversion * V[k] +
      weights.engagement * (E?.[k] ?? 0) -
      weights.hide * H[k] -
      weights.unclickedImpression * Math.max(0, I[k] - C[k]);
    scores[k] = Math.max(0, base + d * engagement);
    total += scores[k];
  }
  if (!(total > 0)) return new Array<number>(TOPIC_COUNT).fill(1 / TOPIC_COUNT);
  return scores.map((s) => s / total);
}
