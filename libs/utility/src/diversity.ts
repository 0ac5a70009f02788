/**
 * How many ads of one advertiser, and of one creative category, a single answer may carry. Applied
 * to the ads in utility order before slots are assigned (see allocateSlots): an ad whose advertiser
 * or category is already at its cap is skipped, and the next one competes in its place.
 */
export interface Diversity {
  /** >= 1; 1 is one ad per advertiser. */
  readonly maxPerAdvertiser: number;
  /** >= 1; at least the slots of the request means no cap. Ads without a category are not counted. */
  readonly maxPerCategory: number;
}

/** One ad per advertiser, any number per category: the auction before diversity was configurable. */
export const DEFAULT_DIVERSITY: Diversity = Object.freeze({
  maxPerAdvertiser: 1,
  maxPerCategory: Number.POSITIVE_INFINITY,
});

/** Which cap left an entry out: its advertiser's (checked first) or its category's. */
export type DiversityCap = 'advertiser' | 'category';

export interface Diversified {
  readonly advertiserId: number;
  readonly category?: string;
}

/**
 * The entries (already in the order they compete in) that fit under the caps, greedily: each is
 * kept when neither its advertiser nor its category has reached its cap, counting only entries kept
 * before it. `skip` leaves one entry out, as if it had not entered (VCG's "without it"). `left`
 * hears of each entry left out and which cap did it (the auction's verdicts).
 */
export function withinCaps<T>(
  entries: readonly T[],
  diversity: Diversity,
  of: (entry: T) => Diversified,
  skip?: T,
  left?: (entry: T, cap: DiversityCap) => void,
): T[] {
  const byAdvertiser = new Map<number, number>();
  const byCategory = new Map<string, number>();
  const kept: T[] = [];
  for (const entry of entries) {
    if (entry === skip) continue;
    const { advertiserId, category } = of(entry);
    const advertiserCount = byAdvertiser.get(advertiserId) ?? 0;
    if (advertiserCount >= diversity.maxPerAdvertiser) {
      left?.(entry, 'advertiser');
      continue;
    }
    const categoryCount = category === undefined ? 0 : (byCategory.get(category) ?? 0);
    if (categoryCount >= diversity.maxPerCategory) {
      left?.(entry, 'category');
      continue;
    }
    byAdvertiser.set(advertiserId, advertiserCount + 1);
    if (category !== undefined) byCategory.set(category, categoryCount + 1);
    kept.push(entry);
  }
  return kept;
}

export function requireDiversity(diversity: Diversity): void {
  for (const field of ['maxPerAdvertiser', 'maxPerCategory'] as const) {
    const cap = diversity[field];
    const whole = Number.isInteger(cap) || cap === Number.POSITIVE_INFINITY;
    if (typeof cap !== 'number' || !whole || cap < 1) {
      throw new RangeError(`diversity.${field} must be an integer >= 1 (or Infinity), got ${String(cap)}`);
    }
  }
}
