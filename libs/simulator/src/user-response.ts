import {
  type AdLatent,
  type Engagement,
  type SlotContext,
  type UserLatent,
  affinity,
  clickProbabilityExamined,
  conversionProbability,
  groundTruth,
  hideProbabilityNotClicked,
  irrelevance,
} from './ground-truth.js';
import type { Rng } from './rng.js';

export interface SlotResponse {
  examined: boolean;
  clicked: boolean;
  converted: boolean;
  hidden: boolean;
  /** irrelevance(u, a), what a FatigueState exposure needs. */
  irrelevance: number;
  /** The true probabilities behind the draws. */
  pClick: number;
  pConversion: number;
}

/**
 * Draws a user's response to one shown ad from the ground truth, in the order a person acts:
 * examine the slot (position bias), then click (scaled by fatigue), or else maybe hide; after a
 * click, convert. Exactly four uniforms are consumed per call, so a stream of calls stays aligned
 * whatever the outcomes.
 */
export function respondToAd(
  user: UserLatent,
  ad: AdLatent,
  ctx: SlotContext,
  engagement: Engagement,
  rng: Rng,
): SlotResponse {
  const uExamine = rng.next();
  const uClick = rng.next();
  const uHide = rng.next();
  const uConvert = rng.next();
  const aff = affinity(user, ad);
  const irr = irrelevance(user, ad);
  const pExamine = groundTruth.examination(ctx.position, ctx.surface);
  const pClickExamined = engagement.multiplier * clickProbabilityExamined(aff, ad.quality, ctx);
  const pConversion = conversionProbability(aff, ad.conversionQuality);
  const examined = uExamine < pExamine;
  const clicked = examined && uClick < pClickExamined;
  const hidden = examined && !clicked && uHide < hideProbabilityNotClicked(irr, ad.quality, engagement.level);
  const converted = clicked && uConvert < pConversion;
  return {
    examined,
    clicked,
    converted,
    hidden,
    irrelevance: irr,
    pClick: pExamine * pClickExamined,
    pConversion,
  };
}
