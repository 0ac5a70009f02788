/** An ad the oracle may place, with its true expected advertiser value per examined impression. */
export interface ValuedAd {
  adId: number;
  advertiserId: number;
  /** USD per examined impression: P(click | examined) x P(conversion | click) x value per conversion. */
  value: number;
}

export interface Allocation {
  /** Ad ids by slot, best slot first. */
  adIds: number[];
  /** sum over slots of P(examine | slot) x value. */
  welfare: number;
}

/**
 * The welfare-maximising fill of `slots` slots with at most one ad per advertiser, when an ad's
 * expected value in slot s is examination(s) x value (separable, examination non-increasing in s):
 * each advertiser's best ad, the best advertisers first. By the rearrangement inequality no other
 * assignment does better, so no matching solver is needed. Ties go to the lower ad id.
 */
export function bestAllocation(
  candidates: readonly ValuedAd[],
  slots: number,
  examination: (slot: number) => number,
): Allocation {
  if (!Number.isInteger(slots) || slots < 1)
    throw new RangeError(`slots must be a positive integer, got ${slots}`);
  const ranked = [...candidates].sort((a, b) => b.value - a.value || a.adId - b.adId);
  const advertisers = new Set<number>();
  const adIds: number[] = [];
  let welfare = 0;
  for (const ad of ranked) {
    if (adIds.length === slots) break;
    if (!(ad.value > 0) || advertisers.has(ad.advertiserId)) continue;
    advertisers.add(ad.advertiserId);
    welfare += examination(adIds.length) * ad.value;
    adIds.push(ad.adId);
  }
  return { adIds, welfare };
}

/** Welfare of an allocation someone else chose: sum over shown ads of examination(slot) x value. */
export function allocationWelfare(
  shown: readonly { slot: number; value: number }[],
  examination: (slot: number) => number,
): number {
  let welfare = 0;
  for (const ad of shown) welfare += examination(ad.slot) * ad.value;
  return welfare;
}
