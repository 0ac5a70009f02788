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

/**
 * The ground-truth response model (examination hypothesis):
 *   P(click | u, a, slot)  = P(examine | slot, surface) * sigmoid(z_click)
 *   z_click  = -4.6 + 7.0 * affinity(u, a) + quality(a) + surface effect + device effect
 *   P(conv | click, u, a)  = sigmoid(-2.6 + 3.0 * affinity(u, a) + conversionQuality(a))
 *   P(examine | slot)      = decay(surface) ^ slot
 * where affinity(u, a) = sum_k interests_k(u) * topics_k(a), the overlap of two distributions over TOPICS.
 */
export const GROUND_TRUTH = {
  clickIntercept: -4.6,
  clickAffinity: 7.0,
  conversionIntercept: -2.6,
  conversionAffinity: 3.0,
  surfaceEffect: { home_feed: 0, search: 0.4, related_items: 0.2 } as Record<Surface, number>,
  deviceEffect: { mobile: 0.1, desktop: 0, tablet: -0.1 } as Record<Device, number>,
  examinationDecay: { home_feed: 0.7, search: 0.6, related_items: 0.75 } as Record<Surface, number>,
} as const;

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export function affinity(user: SimUser, ad: SimAd): number {
  let s = 0;
  for (let k = 0; k < user.interests.length; k++) s += user.interests[k] * ad.topics[k];
  return s;
}

export const groundTruth = {
  examination(position: number, surface: Surface): number {
    return Math.pow(GROUND_TRUTH.examinationDecay[surface], position);
  },
  /** Probability of a click given that the user looked at the ad (what a position-free model predicts). */
  pClickExamined(user: SimUser, ad: SimAd, ctx: ServeContext): number {
    const z =
      GROUND_TRUTH.clickIntercept +
      GROUND_TRUTH.clickAffinity * affinity(user, ad) +
      ad.quality +
      GROUND_TRUTH.surfaceEffect[ctx.surface] +
      GROUND_TRUTH.deviceEffect[ctx.device];
    return sigmoid(z);
  },
  pClick(user: SimUser, ad: SimAd, ctx: SlotContext): number {
    return groundTruth.examination(ctx.position, ctx.surface) * groundTruth.pClickExamined(user, ad, ctx);
  },
  /** Probability of a conversion given a click. */
  pConversion(user: SimUser, ad: SimAd): number {
    return sigmoid(
      GROUND_TRUTH.conversionIntercept +
        GROUND_TRUTH.conversionAffinity * affinity(user, ad) +
        ad.conversionQuality,
    );
  },
};
