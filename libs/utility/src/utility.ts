import { valuePerImpression, type BidValueInput } from './value-per-impression.js';

/**
 * How the auction weighs what an impression is worth. Today only the advertiser's value counts;
 * quality and user-value terms will join as further weights, defaulting to 0 so callers keep working.
 */
export interface UtilityWeights {
  /** Multiplier on the advertiser's expected value per impression; must be > 0. */
  readonly advertiserValue: number;
}

export const DEFAULT_UTILITY_WEIGHTS: UtilityWeights = Object.freeze({ advertiserValue: 1 });

export interface UtilityBreakdown {
  /** The advertiser's expected value, USD per impression. */
  readonly valuePerImpression: number;
  /** Terms that do not scale with the bid (none yet, so 0). */
  readonly otherTerms: number;
  /** advertiserValue x valuePerImpression + otherTerms: what the auction ranks by. */
  readonly utility: number;
}

export function utility(
  input: BidValueInput,
  weights: UtilityWeights = DEFAULT_UTILITY_WEIGHTS,
): UtilityBreakdown {
  requireWeights(weights);
  const value = valuePerImpression(input);
  const otherTerms = 0;
  return { valuePerImpression: value, otherTerms, utility: weights.advertiserValue * value + otherTerms };
}

/**
 * The smallest value per impression at which a candidate with this breakdown reaches `targetUtility`:
 * what a second-price rule charges it. Never negative.
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
}
