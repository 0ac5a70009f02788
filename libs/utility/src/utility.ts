import { UtilityWeightsSchema } from '@adfunnel/contracts';
import { requireNonNegative, requireProbability } from './range-checks.js';
import { valuePerImpression, type BidValueInput } from './value-per-impression.js';

/**
 * How much each term of the utility counts (dimensionless; libs/utility/README.md has the formula).
 * The terms are USD per impression already, so a weight of 1 takes a term at its money value.
 */
export interface UtilityWeights {
  /** On the advertiser's expected value; must be > 0 (it is the only term a bid moves). */
  readonly advertiserValue: number;
  /** On the user's expected engagement, pCTR x usdPerClick. */
  readonly userValue: number;
  /** On the expected cost of a hide, pHide x usdPerHide. */
  readonly hide: number;
  /** On the fatigue one more ad adds to the user (fatigueCost). */
  readonly fatigue: number;
}

/** The weights' names, as the contracts' schema lists them. */
export const UTILITY_WEIGHT_NAMES = UtilityWeightsSchema.keyof().options;

/** The advertiser's value alone: the utility before user terms existed. */
export const DEFAULT_UTILITY_WEIGHTS: UtilityWeights = Object.freeze({
  advertiserValue: 1,
  userValue: 0,
  hide: 0,
  fatigue: 0,
});

/** The money the non-bid terms are counted in; set once per funnel, unlike the weights. */
export interface UtilityScales {
  /** USD a click is worth on the user's side: the engagement the platform keeps. */
  readonly usdPerClick: number;
  /** USD a hide costs: a user who says "don't show me this" is worth less afterwards. */
  readonly usdPerHide: number;
  /** USD of engagement a user at fatigueCapacity has lost to ads (the fatigue curve's scale). */
  readonly fatigueUsd: number;
  /** Recent ads (decayed count) at which a user's fatigue reaches fatigueUsd; > 0. */
  readonly fatigueCapacity: number;
}

/**
 * A click worth 1 USD to the user side (of the order of the CPC bids the marketplace sees), a hide
 * 2 clicks (an explicit complaint; at 5 the hide term took most ads off the closed loop's pages),
 * and a user 20 recent ads deep has lost 1 USD of engagement.
 */
export const DEFAULT_UTILITY_SCALES: UtilityScales = Object.freeze({
  usdPerClick: 1,
  usdPerHide: 2,
  fatigueUsd: 1,
  fatigueCapacity: 20,
});

/** What the candidate brings besides its bid. */
export interface UtilityInput extends BidValueInput {
  /** P(hide | the ad is examined); absent: no hide term. */
  readonly pHide?: number;
}

/** The request's side: the scales and the fatigue cost of the user it serves. */
export interface UtilityContext {
  readonly scales: UtilityScales;
  /** fatigueCost of the request's user, USD per impression; 0 when the exposure is unknown. */
  readonly fatigueCost: number;
}

export const NO_USER_CONTEXT: UtilityContext = Object.freeze({
  scales: DEFAULT_UTILITY_SCALES,
  fatigueCost: 0,
});

export interface UtilityBreakdown {
  /** The advertiser's expected value, USD per impression. */
  readonly valuePerImpression: number;
  /** pCTR x usdPerClick, USD per impression (unweighted). */
  readonly userValue: number;
  /** pHide x usdPerHide, USD per impression (unweighted; 0 without pHide). */
  readonly hideCost: number;
  /** The user's fatigueCost, USD per impression (unweighted). */
  readonly fatigueCost: number;
  /** userValue x w_user - hideCost x w_hide - fatigueCost x w_fatigue: what the bid does not move. */
  readonly otherTerms: number;
  /** advertiserValue x valuePerImpression + otherTerms: what the auction ranks by. */
  readonly utility: number;
}

/**
 * U = w_adv value + w_user pCTR usdPerClick - w_hide pHide usdPerHide - w_fatigue fatigueCost,
 * USD per examined impression (per impression for CPM, like the value).
 */
export function utility(
  input: UtilityInput,
  weights: UtilityWeights = DEFAULT_UTILITY_WEIGHTS,
  context: UtilityContext = NO_USER_CONTEXT,
): UtilityBreakdown {
  requireWeights(weights);
  const value = valuePerImpression(input);
  if (input.pHide !== undefined) requireProbability('pHide', input.pHide);
  const userValue = input.pCtr * context.scales.usdPerClick;
  const hideCost = (input.pHide ?? 0) * context.scales.usdPerHide;
  const { fatigueCost } = context;
  const otherTerms = weights.userValue * userValue - weights.hide * hideCost - weights.fatigue * fatigueCost;
  return {
    valuePerImpression: value,
    userValue,
    hideCost,
    fatigueCost,
    otherTerms,
    utility: weights.advertiserValue * value + otherTerms,
  };
}

/**
 * The fatigue one more ad adds to a user who has seen `exposure` ads recently (a decayed count):
 * with fatigue F(E) = fatigueUsd (E / fatigueCapacity)^2, convex because each ad costs more the more
 * the user has seen, it is F(E + 1) - F(E) = fatigueUsd (2E + 1) / fatigueCapacity^2.
 */
export function fatigueCost(exposure: number, scales: UtilityScales): number {
  requireNonNegative('exposure', exposure);
  return (scales.fatigueUsd * (2 * exposure + 1)) / scales.fatigueCapacity ** 2;
}

/** The request's context: no fatigue term when the user's exposure is unknown. */
export function utilityContext(scales: UtilityScales, exposure: number | undefined): UtilityContext {
  requireScales(scales);
  return { scales, fatigueCost: exposure === undefined ? 0 : fatigueCost(exposure, scales) };
}

/**
 * The smallest value per impression at which a candidate with this breakdown reaches `targetUtility`:
 * only the advertiser term moves with the bid, so it is (target - otherTerms) / w_adv. Never negative.
 */
export function valueNeededFor(
  targetUtility: number,
  breakdown: UtilityBreakdown,
  weights: UtilityWeights = DEFAULT_UTILITY_WEIGHTS,
): number {
  requireWeights(weights);
  return Math.max(0, (targetUtility - breakdown.otherTerms) / weights.advertiserValue);
}

/**
 * What a second-price rule charges, per examined impression: the least value that keeps the slot.
 * That is reaching `targetUtility` and meeting the reserve, which gates the advertiser value itself:
 * max(reserve, valueNeededFor). Both bounds hold for the winner's own value (it won), so the charge
 * never exceeds it; without other terms the utility bound already covers the reserve.
 */
export function criticalValue(
  targetUtility: number,
  breakdown: UtilityBreakdown,
  weights: UtilityWeights,
  reservePerImpression: number,
): number {
  return Math.max(reservePerImpression, valueNeededFor(targetUtility, breakdown, weights));
}

/**
 * Utilities compared on a grid of 1e-12 USD, so that values equal by hand (0.1 x 0.01 and 1/1000)
 * tie, whatever float noise the products carry.
 */
export function comparableUtility(usdPerImpression: number): number {
  return Math.round(usdPerImpression * 1e12);
}

export function requireWeights(weights: UtilityWeights): void {
  const w = weights.advertiserValue;
  if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) {
    throw new RangeError(`weights.advertiserValue must be a finite number > 0, got ${String(w)}`);
  }
  for (const name of ['userValue', 'hide', 'fatigue'] as const) {
    requireNonNegative(`weights.${name}`, weights[name]);
  }
}

export function requireScales(scales: UtilityScales): void {
  requireNonNegative('scales.usdPerClick', scales.usdPerClick);
  requireNonNegative('scales.usdPerHide', scales.usdPerHide);
  requireNonNegative('scales.fatigueUsd', scales.fatigueUsd);
  const k = scales.fatigueCapacity;
  if (typeof k !== 'number' || !Number.isFinite(k) || k <= 0) {
    throw new RangeError(`scales.fatigueCapacity must be a finite number > 0, got ${String(k)}`);
  }
}
