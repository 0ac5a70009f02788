import type { AuctionInput, AuctionOutcome } from './auction-outcome.js';
import { chargeValue, outcomeOf } from './priced-winner.js';
import { allocateSlots, welfare, type Placement, type SlotAllocation } from './slot-allocation.js';

/**
 * Vickrey-Clarke-Groves over the welfare-maximizing slot assignment (allocateSlots): each winner
 * pays the utility its presence costs the others, W(without it) - (W - its own slot utility), with
 * empty slots worth the reserve (VCG with the reserve as a bidder of unlimited supply). For click
 * ads alone and no reserve this is the textbook sum over the slots below,
 *   sum_{k>s} (e[k-1] - e[k]) c_k   (e[slots] = 0, c_k = 0 past the last ad),
 * and the ad pays it divided by e[s] per examined impression. Truthful: bidding one's value is a
 * dominant strategy, and the charge never exceeds the ad's utility in its slot.
 */
export function runVcg(input: AuctionInput): AuctionOutcome {
  const allocation = allocateSlots(input);
  const total = welfareOf(allocation, allocation.clicks, allocation.impressions);
  const winners = allocation.placements.map((placement) => {
    const othersWithIt = total - placement.slotUtility;
    const payment = Math.max(0, welfareWithout(allocation, placement) - othersWithIt);
    const perExamined = placement.kind === 'click' ? payment / placement.examination : payment;
    return chargeValue(placement, perExamined / allocation.weights.advertiserValue);
  });
  return outcomeOf('vcg', input, allocation, winners);
}

function welfareWithout(allocation: SlotAllocation, placement: Placement): number {
  const without = (list: readonly number[]) => [
    ...list.slice(0, placement.rank),
    ...list.slice(placement.rank + 1),
  ];
  return placement.kind === 'click'
    ? welfareOf(allocation, without(allocation.clicks), allocation.impressions)
    : welfareOf(allocation, allocation.clicks, without(allocation.impressions));
}

function welfareOf(
  allocation: SlotAllocation,
  clicks: readonly number[],
  impressions: readonly number[],
): number {
  return welfare(clicks, impressions, allocation.reserveUtility, allocation.examination, allocation.slots);
}
