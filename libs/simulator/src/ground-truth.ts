import type { Device, Surface } from '@adfunnel/contracts';
import type { SimAd, SimUser } from './marketplace.js';

export interface ServeContext {
  surface: Surface;
  device: Device;
}
export interface SlotContext extends ServeContext {
  /** 0-based slot on the surface. */
  position: number;
}

export type UserLatent = Pick<SimUser, 'interests'>;
export type AdLatent = Pick<SimAd, 'topics' | 'quality' | 'conversionQuality'>;

/**
 * The ground-truth response model (examination hypothesis), documented with its derivation in
 * libs/simulator/README.md:
 *   P(click | u, a, slot)  = P(examine | slot, surface) * sigmoid(z_click)
 *   z_click  = -4.6 + 7.0 * affinity(u, a) + quality(a) + surface effect + device effect
 *   P(conv | click, u, a)  = sigmoid(-2.6 + 3.0 * affinity(u, a) + conversionQuality(a))
 *   P(examine | slot)      = decay(surface) ^ slot
 *   P(hide | examined, no click) = sigmoid(-5.0 + 3.0 * irrelevance(u, a) - 0.5 * quality(a) + 1.0 * fatigue)
 * where affinity(u, a) = sum_k interests_k(u) * topics_k(a), the overlap of two distributions over TOPICS,
 * and irrelevance(u, a) = 1 - affinity(u, a) / max_k interests_k(u), in [0, 1].
 */
export const GROUND_TRUTH = {
  clickIntercept: -4.6,
  clickAffinity: 7.0,
  conversionIntercept: -2.6,
  conversionAffinity: 3.0,
  surfaceEffect: { home_feed: 0, search: 0.4, related_items: 0.2 } as Record<Surface, number>,
  deviceEffect: { mobile: 0.1, desktop: 0, tablet: -0.1 } as Record<Device, number>,
  examinationDecay: { home_feed: 0.7, search: 0.6, related_items: 0.75 } as Record<Surface, number>,
  hideIntercept: -5.0,
  hideIrrelevance: 3.0,
  hideQuality: 0.5,
  hideFatigue: 1.0,
} as const;

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function affinity(user: UserLatent, ad: Pick<SimAd, 'topics'>): number {
  let s = 0;
  for (let k = 0; k < user.interests.length; k++) s += user.interests[k] * ad.topics[k];
  return s;
}

/**
 * How far the ad is from what the user cares about most: 0 for an ad entirely in the user's top
 * topic, 1 for an ad in topics the user has no interest in. Affinity never exceeds the largest
 * interest (topics sum to 1), so dividing by it puts every user on the same 0..1 scale.
 */
export function irrelevance(user: UserLatent, ad: Pick<SimAd, 'topics'>): number {
  let top = 0;
  for (let k = 0; k < user.interests.length; k++) if (user.interests[k] > top) top = user.interests[k];
  if (top <= 0) return 1;
  return Math.min(1, Math.max(0, 1 - affinity(user, ad) / top));
}

/** P(click | examined) from an affinity already computed (the columnar oracle path). */
export function clickProbabilityExamined(affinityValue: number, quality: number, ctx: ServeContext): number {
  const z =
    GROUND_TRUTH.clickIntercept +
    GROUND_TRUTH.clickAffinity * affinityValue +
    quality +
    GROUND_TRUTH.surfaceEffect[ctx.surface] +
    GROUND_TRUTH.deviceEffect[ctx.device];
  return sigmoid(z);
}

/** P(conversion | click) from an affinity already computed. */
export function conversionProbability(affinityValue: number, conversionQuality: number): number {
  return sigmoid(
    GROUND_TRUTH.conversionIntercept + GROUND_TRUTH.conversionAffinity * affinityValue + conversionQuality,
  );
}

/** P(hide | examined, not clicked); `fatigue` is the user's load over capacity (FatigueState.level). */
export function hideProbabilityNotClicked(
  irrelevanceValue: number,
  quality: number,
  fatigue: number,
): number {
  return sigmoid(
    GROUND_TRUTH.hideIntercept +
      GROUND_TRUTH.hideIrrelevance * irrelevanceValue -
      GROUND_TRUTH.hideQuality * quality +
      GROUND_TRUTH.hideFatigue * fatigue,
  );
}

/** How the user feels about ads right now: see FatigueState. 1 and 0 are a fresh user. */
export interface Engagement {
  /** Multiplies P(click | examined); in (0, 1]. */
  multiplier: number;
  /** Recent load over the user's capacity; >= 0. */
  level: number;
}

export const FRESH: Engagement = { multiplier: 1, level: 0 };

export const groundTruth = {
  examination(position: number, surface: Surface): number {
    return Math.pow(GROUND_TRUTH.examinationDecay[surface], position);
  },
  /** Probability of a click given that the user looked at the ad (what a position-free model predicts). */
  pClickExamined(user: UserLatent, ad: AdLatent, ctx: ServeContext): number {
    return clickProbabilityExamined(affinity(user, ad), ad.quality, ctx);
  },
  pClick(user: UserLatent, ad: AdLatent, ctx: SlotContext): number {
    return groundTruth.examination(ctx.position, ctx.surface) * groundTruth.pClickExamined(user, ad, ctx);
  },
  /** Probability of a conversion given a click. */
  pConversion(user: UserLatent, ad: AdLatent): number {
    return conversionProbability(affinity(user, ad), ad.conversionQuality);
  },
  /** P(click | shown in the slot) for a user in the given state of fatigue. */
  pClickFatigued(user: UserLatent, ad: AdLatent, ctx: SlotContext, engagement: Engagement): number {
    return engagement.multiplier * groundTruth.pClick(user, ad, ctx);
  },
  /**
   * P(hide | shown in the slot): the user examines the ad, does not click it, and hides it. Hides
   * rise with irrelevance and with fatigue, and fall with ad quality.
   */
  pHide(user: UserLatent, ad: AdLatent, ctx: SlotContext, engagement: Engagement = FRESH): number {
    const examined = groundTruth.examination(ctx.position, ctx.surface);
    const click = engagement.multiplier * groundTruth.pClickExamined(user, ad, ctx);
    return (
      examined * (1 - click) * hideProbabilityNotClicked(irrelevance(user, ad), ad.quality, engagement.level)
    );
  },
};
