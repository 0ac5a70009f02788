import { requireSlots } from './range-checks.js';

export interface AdLayoutInput {
  /** Ads the request has room for: an upper bound. */
  readonly slots: number;
  /** The surface's ad load: the most ads one answer may carry. */
  readonly adLoad: number;
  /**
   * Positions in the surface's feed (organic items and ads counted together, 0-based, strictly
   * increasing) where the caller may put an ad; absent: the ads form one block, positions 0, 1, ...
   */
  readonly adPositions?: readonly number[];
  /** Least distance between two ads' positions (1: adjacent ads allowed); applies to adPositions. */
  readonly minSpacing: number;
}

/**
 * The feed position of each ad slot, top first: slot s of the auction goes to position[s], so the
 * answer has positions.length slots at most. From the named positions it keeps the earliest that
 * are at least minSpacing after the last one kept. Taking the earliest each time gives the most ads
 * and, for every k, the highest k-th position any spaced choice has, so no other choice gives the
 * ads more attention (examination falls with the ad's rank on the page).
 */
export function adLayout(input: AdLayoutInput): number[] {
  const { slots, adLoad, adPositions, minSpacing } = input;
  requireSlots(slots);
  if (!Number.isInteger(adLoad) || adLoad < 1) {
    throw new RangeError(`adLoad must be an integer >= 1, got ${String(adLoad)}`);
  }
  if (!Number.isInteger(minSpacing) || minSpacing < 1) {
    throw new RangeError(`minSpacing must be an integer >= 1, got ${String(minSpacing)}`);
  }
  const most = Math.min(slots, adLoad);
  if (adPositions === undefined) return Array.from({ length: most }, (_, s) => s);
  const positions: number[] = [];
  adPositions.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || (i > 0 && p <= adPositions[i - 1])) {
      throw new RangeError(
        `adPositions must be strictly increasing integers >= 0, but adPositions[${i}] is ${String(p)}`,
      );
    }
    const last = positions.at(-1);
    if (positions.length < most && (last === undefined || p - last >= minSpacing)) positions.push(p);
  });
  return positions;
}
